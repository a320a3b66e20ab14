-- Account objects, step 2 of 5, as SECURITYADMIN (CREATE ROLE and MANAGE GRANTS on the account).
-- The pipeline role may create in its two schemas what its migrations and runs create (tables, also
-- temporary and transient ones, the file format and the internal stage in RAW; tables and the drift view
-- in ANALYTICS), and owns those objects, so it may alter, drop and use them. It does not own the schemas:
-- it cannot drop or rename them, create a database or a schema, or grant anything (both schemas have
-- managed access), and it uses the warehouse without owning it.

use role securityadmin;

create role if not exists &{role};

-- SYSADMIN inherits the role, so administrators can see and manage what the pipeline owns.
grant role &{role} to role sysadmin;

grant usage on warehouse &{warehouse} to role &{role};

grant usage on database &{database} to role &{role};

-- SYSADMIN owns both schemas. On an account set up when the pipeline role owned them, this takes them back
-- (the role keeps the tables it owns, and the grants below).
grant ownership on schema &{database}.raw to role sysadmin copy current grants;

grant ownership on schema &{database}.analytics to role sysadmin copy current grants;

grant usage, create table, create file format, create stage on schema &{database}.raw to role &{role};

grant usage, create table, create view on schema &{database}.analytics to role &{role};
