-- The files the audit knows (loaded, failed or rejected by key) among those audited since %(since)s: a run
-- asks only about the window it listed. The audit grows in loaded_at order, so on Snowflake the predicate
-- prunes to the recent micro-partitions. Without a time (null), every row.
select
    audit.file_name,
    audit.file_etag
from raw.load_audit as audit
where %(since)s is null or audit.loaded_at >= %(since)s
