-- Account objects, step 3 of 4: the storage integration as ACCOUNTADMIN (CREATE INTEGRATION is granted
-- to no other role by default), the external stage as SYSADMIN. Afterwards `desc integration &{integration}`
-- gives STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID for the AWS role's trust policy.

use role accountadmin;

-- Snowflake may read only the landing folder, not the whole bucket.
create storage integration if not exists &{integration}
type = external_stage
storage_provider = 's3'
enabled = true
storage_aws_role_arn = '&{role_arn}'
storage_allowed_locations = ('s3://&{bucket}/&{landing_prefix}');

-- Creating a stage that uses the integration needs USAGE on it; only SYSADMIN creates one.
grant usage on integration &{integration} to role sysadmin;

use role sysadmin;

-- The stage's URL is the landing folder itself (inside STORAGE_ALLOWED_LOCATIONS): COPY names each file by
-- its key relative to it (the key without the landing folder).
create stage if not exists &{database}.raw.landing_s3
url = 's3://&{bucket}/&{landing_prefix}'
storage_integration = &{integration};

-- Reading an external stage needs USAGE (READ and WRITE are for internal stages); the pipeline role
-- needs nothing on the integration, since it creates no stage.
grant usage on stage &{database}.raw.landing_s3 to role &{role};
