-- Account objects, step 2 of 4, as SECURITYADMIN (CREATE ROLE and MANAGE GRANTS on the account).
-- The pipeline role owns its two schemas, so it may create, alter and use every table, view, file format
-- and internal stage in them (the migrations run as this role, which then owns what they create), and
-- nothing else: it cannot create a database or a schema, and it uses the warehouse without owning it.

use role securityadmin;

create role if not exists &{role};

-- SYSADMIN inherits the role, so administrators can see and manage what the pipeline owns (and SYSADMIN
-- may create the external stage in RAW in step 3).
grant role &{role} to role sysadmin;

grant usage on warehouse &{warehouse} to role &{role};

grant usage on database &{database} to role &{role};

grant ownership on schema &{database}.raw to role &{role} copy current grants;

grant ownership on schema &{database}.analytics to role &{role} copy current grants;
