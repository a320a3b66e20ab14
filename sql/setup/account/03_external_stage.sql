-- Account objects, step 3 of 5: the account's guard rails and the storage integration as ACCOUNTADMIN
-- (ALTER ACCOUNT and CREATE INTEGRATION are granted to no other role by default), the external stage as
-- SYSADMIN. Afterwards `desc integration &{integration}` gives STORAGE_AWS_IAM_USER_ARN and
-- STORAGE_AWS_EXTERNAL_ID for the AWS role's trust policy.

use role accountadmin;

-- For every role in the account: no COPY INTO <location> to a URL written in the statement, no external
-- stage without a storage integration (no stage with inline credentials), and no load or unload through
-- an external location that is not a named stage with an integration. Internal stages are not external
-- locations: the pipeline's PUT, COPY and REMOVE on its internal stage are untouched, and its external
-- stage below uses an integration.
alter account set
prevent_unload_to_inline_url = true
require_storage_integration_for_stage_creation = true
require_storage_integration_for_stage_operation = true;

-- Managed access for schemas created before step 1 asked for it (a no-op otherwise). ACCOUNTADMIN holds
-- both the schemas' ownership (through SYSADMIN) and MANAGE GRANTS (through SECURITYADMIN).
alter schema &{database}.raw enable managed access;

alter schema &{database}.analytics enable managed access;

-- Snowflake may read only the landing folder, not the whole bucket.
create storage integration if not exists &{integration}
type = external_stage
storage_provider = 's3'
enabled = true
storage_aws_role_arn = '&{role_arn}'
storage_allowed_locations = ('s3://&{bucket}/&{landing_prefix}');

-- Creating a stage that uses the integration needs USAGE on it; only SYSADMIN creates one.
grant usage on integration &{integration} to role sysadmin;

-- COPY (and LIST) through an external stage that uses an integration needs USAGE on the integration too.
-- It lets the pipeline role reach nothing else: STORAGE_ALLOWED_LOCATIONS still confines every stage on
-- the integration to the landing folder, where the AWS role behind it may only read and list.
grant usage on integration &{integration} to role &{role};

use role sysadmin;

-- The stage's URL is the landing folder itself (inside STORAGE_ALLOWED_LOCATIONS): COPY names each file by
-- its key relative to it (the key without the landing folder).
create stage if not exists &{database}.raw.landing_s3
url = 's3://&{bucket}/&{landing_prefix}'
storage_integration = &{integration};

-- Reading an external stage needs USAGE (READ and WRITE are for internal stages). SYSADMIN owns the stage
-- and the managed access schema it is in, so it may grant this.
grant usage on stage &{database}.raw.landing_s3 to role &{role};
