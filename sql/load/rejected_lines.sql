-- Every non-blank line of the batch that is not a JSON object goes to quarantine with the reason
-- sql/load/parsed_lines.sql gave it. A line delivered twice within the dedup horizon is quarantined once
-- (reject_id): only the quarantine of the last %(dedup_horizon_days)s days is looked up, so Snowflake prunes
-- to it (docs/bounded-work.md).
insert into raw.rejected_events (
    reject_id, raw_text, file_name, reason, rejected_in, load_id, rejected_at
)
select
    parsed.record_hash as reject_id,
    parsed.line as raw_text,
    parsed.file_name,
    parsed.reason,
    'load' as rejected_in,
    parsed.load_id,
    sysdate() as rejected_at
from landing_parsed as parsed
where
    parsed.reason is not null
    and not exists (
        select 1 from raw.rejected_events as known
        where
            known.reject_id = parsed.record_hash
            and known.rejected_at >= dateadd('day', -%(dedup_horizon_days)s, sysdate())
    )
qualify row_number() over (partition by parsed.record_hash order by parsed.file_name) = 1
