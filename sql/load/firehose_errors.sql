-- Quarantine the records Firehose wrote to its error output instead of delivering them, so every record
-- sent is in the tables or in quarantine, never only in S3. Each line of an error object is one JSON error
-- record: errorCode, errorMessage, rawData (the record's bytes in base64) and kinesisMetadata.
-- reject_id is the record's place in the stream (stream ARN, shard, sequence number, arrival time), so a
-- record written to the error output twice, or an error object loaded again, is quarantined once.
-- raw_text is the record as text when its bytes are UTF-8, else its base64 (the reason says so).
-- landing_lines and landing_files are the session's temporary tables (see the loader).
insert into raw.rejected_events (
    reject_id, raw_text, file_name, reason, rejected_in, load_id, rejected_at
)
with

error_lines as (
    select
        lines.line,
        files.file_name,
        files.load_id,
        iff(startswith(ltrim(lines.line), '{'), try_parse_json(lines.line), null) as error_record
    from landing_lines as lines
    inner join landing_files as files on lines.file_name = files.staged_name
    where trim(lines.line) != ''
),

error_fields as (
    select
        error_lines.line,
        error_lines.file_name,
        error_lines.load_id,
        error_lines.error_record is not null as is_error_record,
        'firehose could not deliver the record ('
        || coalesce(error_lines.error_record:errorCode::varchar, 'no error code') || '): '
        || coalesce(error_lines.error_record:errorMessage::varchar, 'no error message') as firehose_reason,
        error_lines.error_record:rawData::varchar as raw_data,
        error_lines.error_record:kinesisMetadata:kinesisStreamARN::varchar as stream_arn,
        error_lines.error_record:kinesisMetadata:shardId::varchar as shard_id,
        error_lines.error_record:kinesisMetadata:sequenceNumber::varchar as sequence_number,
        coalesce(
            error_lines.error_record:kinesisMetadata:approximateArrivalTimestamp::varchar,
            error_lines.error_record:arrivalTimestamp::varchar,
            ''
        ) as arrival_timestamp
    from error_lines
),

raw_data_kinds as (
    select
        error_fields.line,
        error_fields.file_name,
        error_fields.load_id,
        error_fields.is_error_record,
        error_fields.firehose_reason,
        error_fields.raw_data,
        error_fields.stream_arn,
        error_fields.shard_id,
        error_fields.sequence_number,
        error_fields.arrival_timestamp,
        try_base64_decode_string(error_fields.raw_data) as raw_data_text,
        case
            when try_base64_decode_binary(error_fields.raw_data) is null then 'missing'
            when try_base64_decode_string(error_fields.raw_data) is null then 'binary'
            else 'utf-8'
        end as raw_data_kind
    from error_fields
),

quarantined_records as (
    select
        sha2(
            coalesce(
                'firehose|' || raw_data_kinds.stream_arn || '|' || raw_data_kinds.shard_id
                || '|' || raw_data_kinds.sequence_number || '|' || raw_data_kinds.arrival_timestamp,
                'firehose|' || raw_data_kinds.arrival_timestamp || '|' || raw_data_kinds.raw_data,
                raw_data_kinds.line
            ),
            256
        ) as reject_id,
        case raw_data_kinds.raw_data_kind
            when 'utf-8' then raw_data_kinds.raw_data_text
            when 'binary' then raw_data_kinds.raw_data
            else raw_data_kinds.line
        end as raw_text,
        raw_data_kinds.file_name,
        raw_data_kinds.load_id,
        case
            when not raw_data_kinds.is_error_record
                then 'firehose error output holds a line that is not a JSON error record; raw_text is that line'
            when raw_data_kinds.raw_data_kind = 'missing'
                then raw_data_kinds.firehose_reason || '; it has no base64 rawData, so raw_text is the error record'
            when raw_data_kinds.raw_data_kind = 'binary'
                then raw_data_kinds.firehose_reason || '; raw_text holds its bytes in base64'
            else raw_data_kinds.firehose_reason
        end as reason
    from raw_data_kinds
)

select
    quarantined_records.reject_id,
    quarantined_records.raw_text,
    quarantined_records.file_name,
    quarantined_records.reason,
    'firehose' as rejected_in,
    quarantined_records.load_id,
    sysdate() as rejected_at
from quarantined_records
where
    not exists (
        select 1 from raw.rejected_events as known
        where
            known.reject_id = quarantined_records.reject_id
            and known.rejected_at >= dateadd('day', -%(dedup_horizon_days)s, sysdate())
    )
qualify row_number() over (partition by quarantined_records.reject_id order by quarantined_records.raw_text) = 1
