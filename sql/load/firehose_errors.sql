-- Quarantine the records Firehose wrote to its error output instead of delivering them, so every record
-- sent is in the tables or in quarantine, never only in S3. Each line of an error object is one JSON error
-- record: errorCode, errorMessage, rawData (the record's bytes in base64) and kinesisMetadata.
-- reject_id is the record's place in the stream (stream ARN, shard, sequence number, arrival time), so a
-- record written to the error output twice, or an error object loaded again, is quarantined once.
-- raw_text is the record as text when its bytes are UTF-8, else its base64 (the reason says so). UTF-8 is
-- tested on the bytes' hex form before decoding: fakesnow has no TRY_BASE64_DECODE_STRING, and
-- BASE64_DECODE_STRING fails the whole statement on bytes that are not UTF-8. CASE evaluates a branch only
-- for the rows that reach it, on Snowflake as on DuckDB.
insert into raw.rejected_events (
    reject_id, raw_text, file_name, reason, rejected_in, load_id, rejected_at
)
with

error_lines as (
    select
        lines.line,
        iff(startswith(ltrim(lines.line), '{'), try_parse_json(lines.line), null) as error_record
    from raw.landing_lines as lines
    where trim(coalesce(lines.line, '')) != ''
),

error_fields as (
    select
        error_lines.line,
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
        error_fields.is_error_record,
        error_fields.firehose_reason,
        error_fields.raw_data,
        error_fields.stream_arn,
        error_fields.shard_id,
        error_fields.sequence_number,
        error_fields.arrival_timestamp,
        case
            when error_fields.raw_data is null then 'missing'
            when
                not regexp_like(error_fields.raw_data, '^[A-Za-z0-9+/]*={0,2}$')
                or mod(length(error_fields.raw_data), 4) != 0
                then 'missing'
            -- Well-formed UTF-8, one byte sequence (two hex digits per byte) at a time.
            when regexp_like(
                hex_encode(base64_decode_binary(error_fields.raw_data)),
                '^([0-7][0-9A-F]'
                || '|(C[2-9A-F]|D[0-9A-F])[89AB][0-9A-F]'
                || '|E0[AB][0-9A-F][89AB][0-9A-F]'
                || '|(E[1-9A-CEF])[89AB][0-9A-F][89AB][0-9A-F]'
                || '|ED[89][0-9A-F][89AB][0-9A-F]'
                || '|F0[9AB][0-9A-F]([89AB][0-9A-F]){2}'
                || '|F[1-3]([89AB][0-9A-F]){3}'
                || '|F48[0-9A-F]([89AB][0-9A-F]){2}'
                || ')*$'
            ) then 'utf-8'
            else 'binary'
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
            when 'utf-8' then base64_decode_string(raw_data_kinds.raw_data)
            when 'binary' then raw_data_kinds.raw_data
            else raw_data_kinds.line
        end as raw_text,
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
    %(file_name)s as file_name,
    quarantined_records.reason,
    'firehose' as rejected_in,
    %(load_id)s as load_id,
    sysdate() as rejected_at
from quarantined_records
where
    not exists (
        select 1 from raw.rejected_events as known
        where known.reject_id = quarantined_records.reject_id
    )
qualify row_number() over (partition by quarantined_records.reject_id order by quarantined_records.raw_text) = 1
