"""The pipeline's AWS side: validated settings and idempotent provisioning.

    mobile-events-aws plan                 # what `up` would change; changes nothing
    mobile-events-aws up                   # create or converge every resource (twice = no-op)
    mobile-events-aws status [--json]      # names, landing prefix, queue URL, topic ARN, what exists
    mobile-events-aws down [--force]       # remove it all (--force: also a non-empty bucket)
    mobile-events-aws template [--out FILE]   # the same resources as a CloudFormation template

Settings: config/aws.json ($PIPELINE_CONFIG_DIR). Credentials: the AWS default chain; AWS_ENDPOINT_URL for
the emulator. Snowflake's storage role: $SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN and
$SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID (or the matching `up` options). Exit status: 0 ok, 2 config or usage
error, 1 AWS failure.
"""
