-- Account objects, step 5 of 5, as SECURITYADMIN (CREATE ROLE and CREATE USER through USERADMIN, MANAGE
-- GRANTS): the read-only role and its service user, for the health page and the static report. The role
-- may read every table and view of the two schemas, now and future, and nothing else: no INSERT, UPDATE,
-- DELETE or TRUNCATE, no CREATE anywhere, no stage, no integration.

use role securityadmin;

create role if not exists &{read_role};

grant role &{read_role} to role sysadmin;

grant usage on warehouse &{warehouse} to role &{read_role};

grant usage on database &{database} to role &{read_role};

grant usage on schema &{database}.raw to role &{read_role};

grant usage on schema &{database}.analytics to role &{read_role};

-- What exists now, and (future grants) whatever the migrations create or replace later. In a managed access
-- schema only its owner or a role with MANAGE GRANTS may set either.
grant select on all tables in schema &{database}.raw to role &{read_role};

grant select on future tables in schema &{database}.raw to role &{read_role};

grant select on all tables in schema &{database}.analytics to role &{read_role};

grant select on future tables in schema &{database}.analytics to role &{read_role};

grant select on all views in schema &{database}.analytics to role &{read_role};

grant select on future views in schema &{database}.analytics to role &{read_role};

-- Its own key pair (never the pipeline's), the same network policy as the pipeline's user (step 4).
create user if not exists &{read_user}
type = service
default_role = &{read_role}
default_warehouse = &{warehouse}
default_namespace = &{database}.analytics
rsa_public_key = '&{read_public_key}'
comment = 'mobile-events pipeline health page and report, read-only, key-pair authentication only';

alter user &{read_user} set network_policy = &{network_policy};

grant role &{read_role} to user &{read_user};
