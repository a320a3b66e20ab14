#!/usr/bin/env bash
# The pipeline's AWS resources with the AWS CLI, for those who prefer it to `python -m aws_infrastructure`.
# It creates the same resources with the same settings and policies, so `python -m aws_infrastructure plan`
# reports nothing to change after `setup_infrastructure.sh up`, and the other way round.
#
# Usage: setup_infrastructure.sh up | down [--force] | status
# Needs: aws (CLI v1 or v2) and jq. Reads config/aws.json (or $PIPELINE_CONFIG_DIR/aws.json); credentials come
# from the AWS CLI's usual chain, AWS_ENDPOINT_URL points it at an emulator. The Snowflake storage role is
# created when SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN and SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID are set.
# Only the basic config checks are repeated here; `python -m aws_infrastructure plan` checks every rule.
# Exit status: 0 ok, 2 config or usage error, 1 AWS failure.
set -euo pipefail
export AWS_PAGER=""

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
die_usage() { echo "error: $*" >&2; exit 2; }
die_aws() { echo "error: $*" >&2; exit 1; }
say() { echo "$*"; }

command -v aws >/dev/null || die_usage "the aws command is not installed (pip install awscli)"
command -v jq >/dev/null || die_usage "jq is not installed (apt-get install jq)"

ACTION="${1:-}"
FORCE=false
case "$ACTION" in
  up|status) [[ $# -eq 1 ]] || die_usage "$ACTION takes no options" ;;
  down) [[ $# -le 2 ]] || die_usage "down takes only --force"
        if [[ $# -eq 2 ]]; then [[ "$2" == "--force" ]] || die_usage "unknown option $2"; FORCE=true; fi ;;
  -h|--help|help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONFIG_FILE="${PIPELINE_CONFIG_DIR:-$HERE/../../config}/aws.json"
[[ -f "$CONFIG_FILE" ]] || die_usage "$CONFIG_FILE: file not found"
jq -e 'type == "object"' "$CONFIG_FILE" >/dev/null 2>&1 || die_usage "$CONFIG_FILE: not a JSON object"

# cfg FIELD DEFAULT: a config value, with the same defaults as aws_infrastructure/settings.py.
cfg() {
  local value
  value="$(jq -r --arg d "${2-}" "(.$1 // \$d) | tostring" "$CONFIG_FILE")"
  [[ -n "$value" ]] || die_usage "$CONFIG_FILE: field '$1': is required"
  printf '%s' "$value"
}

REGION="$(cfg region)"
BUCKET="$(cfg bucket)"
STREAM="$(cfg stream.name)"
STREAM_MODE="$(cfg stream.mode PROVISIONED)"
SHARDS="$(cfg stream.shard_count 1)"
RETENTION="$(cfg stream.retention_hours 24)"
FIREHOSE="$(cfg firehose.name)"
FIREHOSE_ROLE="$(cfg firehose.role_name "$FIREHOSE-delivery")"
PREFIX="$(cfg firehose.prefix)"
ERROR_PREFIX="$(cfg firehose.error_output_prefix)"
COMPRESSION="$(cfg firehose.compression GZIP)"
BUFFER_MIB="$(cfg firehose.buffering.size_mib)"
BUFFER_SECONDS="$(cfg firehose.buffering.interval_seconds)"
TRANSITION_DAYS="$(cfg bucket_lifecycle.landing_transition_to_ia_days 30)"
LANDING_DAYS="$(cfg bucket_lifecycle.landing_expiration_days 365)"
ERROR_DAYS="$(cfg bucket_lifecycle.error_expiration_days 90)"
NONCURRENT_DAYS="$(cfg bucket_lifecycle.noncurrent_version_expiration_days 7)"
MULTIPART_DAYS="$(cfg bucket_lifecycle.abort_incomplete_multipart_days 1)"
TOPIC="$(cfg alerts.topic_name "$FIREHOSE-alerts")"
QUEUE="$(cfg landing_events.queue_name "$FIREHOSE-landing-objects")"
QUEUE_RETENTION="$(cfg landing_events.message_retention_seconds 345600)"
SNOWFLAKE_ROLE="$(cfg snowflake.storage_role_name "$FIREHOSE-snowflake-storage")"
# Same truncation as the Python defaults.
FIREHOSE_ROLE="${FIREHOSE_ROLE:0:64}"; QUEUE="${QUEUE:0:80}"; SNOWFLAKE_ROLE="${SNOWFLAKE_ROLE:0:64}"

[[ "$BUCKET" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] ||
  die_usage "$CONFIG_FILE: field 'bucket': S3 bucket names are 3-63 of lowercase letters, digits, '.' and '-' (got '$BUCKET')"
[[ "$COMPRESSION" == GZIP || "$COMPRESSION" == UNCOMPRESSED ]] ||
  die_usage "$CONFIG_FILE: field 'firehose.compression': must be GZIP or UNCOMPRESSED"

# The fixed folder before the first !{...} expression, up to its last '/': S3 filters by literal prefix only.
folder() { local head="${1%%\!\{*}"; [[ "$head" == */* ]] && printf '%s' "${head%/*}/" || printf ''; }
LANDING="$(folder "$PREFIX")"
ERRORS="$(folder "$ERROR_PREFIX")"
[[ -n "$LANDING" && -n "$ERRORS" ]] || die_usage "$CONFIG_FILE: firehose prefixes must start with a fixed folder"

export AWS_DEFAULT_REGION="$REGION"
ACCOUNT="$(aws sts get-caller-identity --query Account --output text 2>&1)" ||
  die_aws "cannot use AWS${AWS_ENDPOINT_URL:+ at $AWS_ENDPOINT_URL}: $ACCOUNT"
case "$REGION" in cn-*) PARTITION=aws-cn ;; us-gov-*) PARTITION=aws-us-gov ;; *) PARTITION=aws ;; esac
BUCKET_ARN="arn:$PARTITION:s3:::$BUCKET"
STREAM_ARN="arn:$PARTITION:kinesis:$REGION:$ACCOUNT:stream/$STREAM"
FIREHOSE_ROLE_ARN="arn:$PARTITION:iam::$ACCOUNT:role/$FIREHOSE_ROLE"
SNOWFLAKE_ROLE_ARN="arn:$PARTITION:iam::$ACCOUNT:role/$SNOWFLAKE_ROLE"
TOPIC_ARN="arn:$PARTITION:sns:$REGION:$ACCOUNT:$TOPIC"
QUEUE_ARN="arn:$PARTITION:sqs:$REGION:$ACCOUNT:$QUEUE"
NOTIFICATION_ID="landing-object-created"

# AWS CLI v1 pins SQS to its legacy hostname unless --endpoint-url is given, ignoring AWS_ENDPOINT_URL
# (awscli/customizations/overridesslcommonname.py); pass the variable on so SQS calls reach the same endpoint.
sqs() {
  local endpoint="${AWS_ENDPOINT_URL_SQS:-${AWS_ENDPOINT_URL:-}}"
  if [[ -n "$endpoint" ]]; then aws --endpoint-url "$endpoint" sqs "$@"; else aws sqs "$@"; fi
}

# fetch PATTERN CMD...: run CMD with its output in OUT; return 1 when it fails with an error matching PATTERN
# (not found), and stop with the error otherwise (no credentials, endpoint down, access denied).
ERRORS_FILE="$(mktemp)"; trap 'rm -f "$ERRORS_FILE"' EXIT
fetch() {
  local pattern="$1"; shift
  if OUT="$("$@" 2>"$ERRORS_FILE")"; then return 0; fi
  if grep -Eq "$pattern" "$ERRORS_FILE"; then return 1; fi
  die_aws "$* failed: $(cat "$ERRORS_FILE")"
}
bucket_exists() { fetch '404|Not Found|NoSuchBucket' aws s3api head-bucket --bucket "$BUCKET"; }
stream_exists() { fetch 'ResourceNotFoundException' aws kinesis describe-stream-summary --stream-name "$STREAM" --output json; }
role_exists() { fetch 'NoSuchEntity' aws iam get-role --role-name "$1"; }
delivery_exists() {
  fetch 'ResourceNotFoundException' aws firehose describe-delivery-stream --delivery-stream-name "$FIREHOSE" --output json
}
topic_exists() { fetch 'NotFound' aws sns get-topic-attributes --topic-arn "$TOPIC_ARN"; }
queue_url() {
  if fetch 'NonExistentQueue|QueueDoesNotExist' sqs get-queue-url --queue-name "$QUEUE" --query QueueUrl --output text
  then printf '%s' "$OUT"; fi
}
# The bucket's notification configuration as JSON ('{}' when it has none: the CLI then prints nothing);
# fails when the bucket does not exist.
notification_config() {
  fetch '404|Not Found|NoSuchBucket' aws s3api get-bucket-notification-configuration --bucket "$BUCKET" --output json ||
    return 1
  jq -c 'del(.ResponseMetadata)' <<<"${OUT:-"{}"}"
}
notification_exists() {
  local configuration
  configuration="$(notification_config)" &&
    jq -e --arg id "$NOTIFICATION_ID" 'any(.QueueConfigurations[]?; .Id == $id)' <<<"$configuration" >/dev/null
}

# --- documents (equal to aws_infrastructure/policies.py and the resources' settings) --------------------------
lifecycle_json() {
  jq -n --arg landing "$LANDING" --arg errors "$ERRORS" --argjson t "$TRANSITION_DAYS" --argjson l "$LANDING_DAYS" \
    --argjson e "$ERROR_DAYS" --argjson n "$NONCURRENT_DAYS" --argjson m "$MULTIPART_DAYS" '{Rules: [
      {ID: "landing-files", Status: "Enabled", Filter: {Prefix: $landing},
       Transitions: [{Days: $t, StorageClass: "STANDARD_IA"}], Expiration: {Days: $l}},
      {ID: "delivery-errors", Status: "Enabled", Filter: {Prefix: $errors}, Expiration: {Days: $e}},
      {ID: "old-versions-and-uploads", Status: "Enabled", Filter: {Prefix: ""},
       NoncurrentVersionExpiration: {NoncurrentDays: $n}, AbortIncompleteMultipartUpload: {DaysAfterInitiation: $m}}]}'
}
firehose_trust_json() {
  jq -n --arg account "$ACCOUNT" '{Version: "2012-10-17", Statement: [{Sid: "FirehoseAssumesRole", Effect: "Allow",
    Principal: {Service: "firehose.amazonaws.com"}, Action: "sts:AssumeRole",
    Condition: {StringEquals: {"sts:ExternalId": $account}}}]}'
}
firehose_policy_json() {
  jq -n --arg stream "$STREAM_ARN" --arg bucket "$BUCKET_ARN" --arg landing "$LANDING" --arg errors "$ERRORS" '{
    Version: "2012-10-17", Statement: [
      {Sid: "ReadSourceStream", Effect: "Allow", Resource: $stream, Action: ["kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]},
      {Sid: "LocateBucket", Effect: "Allow", Resource: $bucket,
        Action: ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]},
      {Sid: "WriteDeliveryFolders", Effect: "Allow", Action: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
        Resource: ["\($bucket)/\($landing)*", "\($bucket)/\($errors)*"]}]}'
}
snowflake_trust_json() {
  jq -n --arg user "$SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN" --arg external "$SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID" '{
    Version: "2012-10-17", Statement: [{Sid: "SnowflakeStorageIntegration", Effect: "Allow", Principal: {AWS: $user},
    Action: "sts:AssumeRole", Condition: {StringEquals: {"sts:ExternalId": $external}}}]}'
}
snowflake_policy_json() {
  jq -n --arg bucket "$BUCKET_ARN" --arg landing "$LANDING" '{Version: "2012-10-17", Statement: [
    {Sid: "ReadLanding", Effect: "Allow", Action: ["s3:GetObject", "s3:GetObjectVersion"], Resource: "\($bucket)/\($landing)*"},
    {Sid: "ListLanding", Effect: "Allow", Action: "s3:ListBucket", Resource: $bucket,
     Condition: {StringLike: {"s3:prefix": ["\($landing)*"]}}},
    {Sid: "LocateBucket", Effect: "Allow", Action: "s3:GetBucketLocation", Resource: $bucket}]}'
}
queue_attributes_json() {
  jq -n --arg queue "$QUEUE_ARN" --arg bucket "$BUCKET_ARN" --arg account "$ACCOUNT" --arg retention "$QUEUE_RETENTION" '{
    MessageRetentionPeriod: $retention,
    Policy: ({Version: "2012-10-17", Statement: [{Sid: "BucketSendsObjectCreated", Effect: "Allow",
      Principal: {Service: "s3.amazonaws.com"}, Action: "sqs:SendMessage", Resource: $queue,
      Condition: {ArnLike: {"aws:SourceArn": $bucket}, StringEquals: {"aws:SourceAccount": $account}}}]} | tojson)}'
}
destination_json() {
  jq -n --arg role "$FIREHOSE_ROLE_ARN" --arg bucket "$BUCKET_ARN" --arg prefix "$PREFIX" --arg errors "$ERROR_PREFIX" \
    --argjson size "$BUFFER_MIB" --argjson seconds "$BUFFER_SECONDS" --arg compression "$COMPRESSION" '{
    RoleARN: $role, BucketARN: $bucket, Prefix: $prefix, ErrorOutputPrefix: $errors,
    BufferingHints: {SizeInMBs: $size, IntervalInSeconds: $seconds}, CompressionFormat: $compression,
    ProcessingConfiguration: {Enabled: true, Processors: [{Type: "AppendDelimiterToRecord", Parameters: []}]}}'
}

# --- up ------------------------------------------------------------------------------------------------------
up_bucket() {
  if bucket_exists; then say "= S3 bucket $BUCKET exists; applying its settings"
  else
    if [[ "$REGION" == us-east-1 ]]; then aws s3api create-bucket --bucket "$BUCKET" >/dev/null
    else aws s3api create-bucket --bucket "$BUCKET" --create-bucket-configuration "LocationConstraint=$REGION" >/dev/null; fi
    aws s3api wait bucket-exists --bucket "$BUCKET"
    say "+ created S3 bucket $BUCKET"
  fi
  aws s3api put-public-access-block --bucket "$BUCKET" --public-access-block-configuration \
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
  aws s3api put-bucket-encryption --bucket "$BUCKET" --server-side-encryption-configuration \
    '{"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}'
  aws s3api put-bucket-versioning --bucket "$BUCKET" --versioning-configuration Status=Enabled
  aws s3api put-bucket-lifecycle-configuration --bucket "$BUCKET" --lifecycle-configuration "$(lifecycle_json)"
}

up_stream() {
  if ! stream_exists; then
    if [[ "$STREAM_MODE" == ON_DEMAND ]]; then
      aws kinesis create-stream --stream-name "$STREAM" --stream-mode-details StreamMode=ON_DEMAND
    else
      aws kinesis create-stream --stream-name "$STREAM" --shard-count "$SHARDS" --stream-mode-details StreamMode=PROVISIONED
    fi
    aws kinesis wait stream-exists --stream-name "$STREAM"
    stream_exists
    say "+ created Kinesis stream $STREAM"
  elif [[ "$(jq -r .StreamDescriptionSummary.StreamStatus <<<"$OUT")" != ACTIVE ]]; then
    aws kinesis wait stream-exists --stream-name "$STREAM"
    stream_exists
  fi
  local summary="$OUT" mode open retention
  mode="$(jq -r '.StreamDescriptionSummary.StreamModeDetails.StreamMode // "PROVISIONED"' <<<"$summary")"
  open="$(jq -r '.StreamDescriptionSummary.OpenShardCount' <<<"$summary")"
  retention="$(jq -r '.StreamDescriptionSummary.RetentionPeriodHours' <<<"$summary")"
  if [[ "$mode" != "$STREAM_MODE" ]]; then
    aws kinesis update-stream-mode --stream-arn "$STREAM_ARN" --stream-mode-details "StreamMode=$STREAM_MODE"
    aws kinesis wait stream-exists --stream-name "$STREAM"; say "~ stream mode $mode -> $STREAM_MODE"
  fi
  if [[ "$STREAM_MODE" == PROVISIONED && "$open" != "$SHARDS" ]]; then
    aws kinesis update-shard-count --stream-name "$STREAM" --target-shard-count "$SHARDS" --scaling-type UNIFORM_SCALING >/dev/null
    aws kinesis wait stream-exists --stream-name "$STREAM"; say "~ stream shards $open -> $SHARDS"
  fi
  if (( retention < RETENTION )); then
    aws kinesis increase-stream-retention-period --stream-name "$STREAM" --retention-period-hours "$RETENTION"
    say "~ stream retention $retention h -> $RETENTION h"
  elif (( retention > RETENTION )); then
    aws kinesis decrease-stream-retention-period --stream-name "$STREAM" --retention-period-hours "$RETENTION"
    say "~ stream retention $retention h -> $RETENTION h"
  fi
}

# up_role NAME DESCRIPTION TRUST POLICY_NAME POLICY
up_role() {
  if role_exists "$1"; then
    aws iam update-assume-role-policy --role-name "$1" --policy-document "$3"
  else
    aws iam create-role --role-name "$1" --description "$2" --assume-role-policy-document "$3" >/dev/null
    say "+ created IAM role $1"
  fi
  aws iam put-role-policy --role-name "$1" --policy-name "$4" --policy-document "$5"
}

up_delivery_stream() {
  local wanted current
  wanted="$(destination_json)"
  if delivery_exists; then
    current="$OUT"
    if jq -e --argjson w "$wanted" '.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription
        | {RoleARN, BucketARN, Prefix, ErrorOutputPrefix, BufferingHints, CompressionFormat, ProcessingConfiguration}
        == $w' <<<"$current" >/dev/null; then
      say "= Firehose delivery stream $FIREHOSE up to date"
    else
      aws firehose update-destination --delivery-stream-name "$FIREHOSE" \
        --current-delivery-stream-version-id "$(jq -r .DeliveryStreamDescription.VersionId <<<"$current")" \
        --destination-id "$(jq -r '.DeliveryStreamDescription.Destinations[0].DestinationId' <<<"$current")" \
        --extended-s3-destination-update "$wanted"
      say "~ updated Firehose delivery stream $FIREHOSE"
    fi
    return
  fi
  local attempt out
  for attempt in $(seq 1 24); do  # IAM is eventually consistent: a new role may not be assumable for a while
    if out="$(aws firehose create-delivery-stream --delivery-stream-name "$FIREHOSE" \
        --delivery-stream-type KinesisStreamAsSource \
        --kinesis-stream-source-configuration "KinesisStreamARN=$STREAM_ARN,RoleARN=$FIREHOSE_ROLE_ARN" \
        --extended-s3-destination-configuration "$wanted" 2>&1)"; then
      say "+ created Firehose delivery stream $FIREHOSE"; return
    fi
    grep -qi 'role' <<<"$out" && (( attempt < 24 )) || die_aws "create-delivery-stream failed: $out"
    sleep 5
  done
}

up_queue_and_notification() {
  local url attributes
  attributes="$(queue_attributes_json)"
  url="$(queue_url)"
  if [[ -z "$url" ]]; then
    url="$(sqs create-queue --queue-name "$QUEUE" --attributes "$attributes" --query QueueUrl --output text)"
    say "+ created SQS queue $QUEUE"
  else
    sqs set-queue-attributes --queue-url "$url" --attributes "$attributes"
  fi
  local notification
  notification="$(notification_config)"
  notification="$(jq -c <<<"$notification" --arg id "$NOTIFICATION_ID" --arg queue "$QUEUE_ARN" --arg landing "$LANDING" '
    .QueueConfigurations = ([.QueueConfigurations[]? | select(.Id != $id)] + [{Id: $id, QueueArn: $queue,
      Events: ["s3:ObjectCreated:*"], Filter: {Key: {FilterRules: [{Name: "prefix", Value: $landing}]}}}])')"
  aws s3api put-bucket-notification-configuration --bucket "$BUCKET" --notification-configuration "$notification"
  say "= S3 notifies $QUEUE of new objects under $LANDING"
}

up() {
  up_bucket
  up_stream
  up_role "$FIREHOSE_ROLE" "Lets Firehose $FIREHOSE read $STREAM and write s3://$BUCKET" \
    "$(firehose_trust_json)" deliver-stream-to-bucket "$(firehose_policy_json)"
  up_delivery_stream
  aws sns create-topic --name "$TOPIC" >/dev/null && say "= SNS topic $TOPIC_ARN"
  up_queue_and_notification
  if [[ -n "${SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN:-}" && -n "${SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID:-}" ]]; then
    up_role "$SNOWFLAKE_ROLE" "Read-only access to the landing folder for a Snowflake storage integration" \
      "$(snowflake_trust_json)" read-landing "$(snowflake_policy_json)"
  else
    say "! skipped the Snowflake storage role: create the integration with STORAGE_AWS_ROLE_ARN = '$SNOWFLAKE_ROLE_ARN',"
    say "  then set SNOWFLAKE_STORAGE_AWS_IAM_USER_ARN and SNOWFLAKE_STORAGE_AWS_EXTERNAL_ID (DESC INTEGRATION) and rerun"
  fi
  say "Done."
}

# --- down ----------------------------------------------------------------------------------------------------
delete_role() {
  role_exists "$1" || return 0
  local name
  for name in $(aws iam list-role-policies --role-name "$1" --query 'PolicyNames[]' --output text); do
    aws iam delete-role-policy --role-name "$1" --policy-name "$name"
  done
  aws iam delete-role --role-name "$1" && say "- deleted IAM role $1"
}

object_versions() {
  aws s3api list-object-versions --bucket "$BUCKET" --output json |
    jq -c '[(.Versions // [])[], (.DeleteMarkers // [])[] | {Key, VersionId}]'
}

down() {
  local versions=0 listing=""
  if bucket_exists; then
    listing="$(object_versions)"
    versions="$(jq length <<<"$listing")"
    if (( versions > 0 )) && [[ "$FORCE" != true ]]; then
      die_usage "bucket $BUCKET is not empty ($versions object versions); nothing was deleted. Run 'down --force' to delete it all"
    fi
  fi
  delete_role "$SNOWFLAKE_ROLE"
  if notification_exists; then
    aws s3api put-bucket-notification-configuration --bucket "$BUCKET" --notification-configuration "$(
      notification_config | jq -c --arg id "$NOTIFICATION_ID" '.QueueConfigurations = [.QueueConfigurations[]?
        | select(.Id != $id)] | if .QueueConfigurations == [] then del(.QueueConfigurations) else . end')"
    say "- removed the bucket's notification to $QUEUE"
  fi
  local url; url="$(queue_url)"
  if [[ -n "$url" ]]; then sqs delete-queue --queue-url "$url" && say "- deleted SQS queue $QUEUE"; fi
  if topic_exists; then aws sns delete-topic --topic-arn "$TOPIC_ARN" && say "- deleted SNS topic $TOPIC"; fi
  if delivery_exists; then
    aws firehose delete-delivery-stream --delivery-stream-name "$FIREHOSE"
    say "- deleted Firehose delivery stream $FIREHOSE"
  fi
  delete_role "$FIREHOSE_ROLE"
  if stream_exists; then
    aws kinesis delete-stream --stream-name "$STREAM" --enforce-consumer-deletion
    say "- deleted Kinesis stream $STREAM"
  fi
  if [[ -n "$listing" ]]; then
    jq -c 'range(0; length; 1000) as $i | {Objects: .[$i:$i + 1000], Quiet: true}' <<<"$listing" |
      while read -r batch; do aws s3api delete-objects --bucket "$BUCKET" --delete "$batch" >/dev/null; done
    aws s3api delete-bucket --bucket "$BUCKET" && say "- deleted S3 bucket $BUCKET ($versions object versions)"
  fi
  say "Done."
}

# --- status --------------------------------------------------------------------------------------------------
flag() { if "$@"; then echo true; else echo false; fi; }
status() {
  local url; url="$(queue_url)"
  local topic=false; topic_exists && topic=true
  jq -n --arg region "$REGION" --arg bucket "$BUCKET" --arg landing "$LANDING" --arg errors "$ERRORS" \
    --arg stream "$STREAM" --arg delivery "$FIREHOSE" --arg url "$url" --arg topic_arn "$TOPIC_ARN" \
    --argjson b "$(flag bucket_exists)" --argjson s "$(flag stream_exists)" --argjson fr "$(flag role_exists "$FIREHOSE_ROLE")" \
    --argjson d "$(flag delivery_exists)" --argjson t "$topic" --argjson n "$(flag notification_exists)" \
    --argjson sr "$(flag role_exists "$SNOWFLAKE_ROLE")" '{region: $region, bucket: $bucket, landing_prefix: $landing,
      error_prefix: $errors, stream: $stream, delivery_stream: $delivery,
      queue_url: (if $url == "" then null else $url end), topic_arn: (if $t then $topic_arn else null end),
      exists: {bucket: $b, stream: $s, firehose_role: $fr, delivery_stream: $d, alerts_topic: $t,
        landing_queue: ($url != ""), bucket_notification: $n, snowflake_role: $sr}}'
}

"$ACTION"
