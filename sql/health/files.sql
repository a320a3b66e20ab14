-- Files by status in the window (with rows loaded and files not yet transformed), plus every file that
-- failed, newest first: one row per status, and up to 20 rows for FAILED, each naming its file and error.
-- A failed file stays FAILED until someone replaces it, so failures are shown whenever they happened.
with

audit as (
    select
        load_audit.status,
        load_audit.file_name,
        load_audit.error,
        load_audit.loaded_at,
        load_audit.rows_loaded,
        load_audit.rows_rejected,
        load_audit.transformed_at
    from raw.load_audit as load_audit
    where
        (load_audit.loaded_at >= %(since)s and load_audit.loaded_at < %(until)s)
        or load_audit.status = 'FAILED'
)

select
    audit.status,
    audit.file_name,
    audit.error,
    audit.loaded_at,
    count(*) over (partition by audit.status) as files,
    sum(audit.rows_loaded) over (partition by audit.status) as rows_loaded,
    sum(audit.rows_rejected) over (partition by audit.status) as rows_rejected,
    count_if(audit.transformed_at is null) over (partition by audit.status) as untransformed
from audit
qualify
    row_number() over (partition by audit.status order by audit.loaded_at desc)
    <= iff(audit.status = 'FAILED', 20, 1)
order by audit.status asc, audit.loaded_at desc
