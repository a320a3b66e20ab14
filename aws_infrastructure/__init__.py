"""The pipeline's AWS side: validated settings and idempotent provisioning.

    python -m aws_infrastructure plan                 # what `up` would change; changes nothing
    python -m aws_infrastructure up                   # create or converge every resource (twice = no-op)
    python -m aws_infrastructure status [--json]      # names, landing prefix, queue URL, topic ARN, what exists
    python -m aws_infrastructure down [--force]       # remove it all (--force: also a non-empty bucket)
    python -m aws_infrastructure template [--out FILE]   # the same resources as a CloudFormation template

Settings: config/aws.json ($PIPELINE_CONFIG_DIR). Credentials: the AWS default chain; AWS_ENDPOINT_URL for
the emulator. Snowflake's storage role: $SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN and
$SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID (or the matching `up` options). Exit status: 0 ok, 2 config or usage
error, 1 AWS failure.
"""
