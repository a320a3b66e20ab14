-- External-stage mode (production): Snowflake reads the landing bucket through a storage integration.
-- Needs ACCOUNTADMIN (or CREATE INTEGRATION). After it runs, `desc integration &{integration}` gives the
-- IAM user ARN and external id that the AWS role's trust policy must name
-- (`python -m aws_infrastructure up` takes them as inputs).

create storage integration if not exists &{integration}
type = external_stage
storage_provider = 's3'
enabled = true
storage_aws_role_arn = '&{role_arn}'
storage_allowed_locations = ('s3://&{bucket}/&{landing_prefix}');

grant usage on integration &{integration} to role &{role};

create stage if not exists &{database}.raw.landing_s3
url = 's3://&{bucket}/'
storage_integration = &{integration};

grant usage on stage &{database}.raw.landing_s3 to role &{role};
