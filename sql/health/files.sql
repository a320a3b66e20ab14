-- Files by status in the window: how many, the rows they loaded or rejected, and how many are not yet
-- transformed. One row per status; the files that need a person are in files_unresolved.sql.
select
    audit.status,
    count(*) as files,
    sum(audit.rows_loaded) as rows_loaded,
    sum(audit.rows_rejected) as rows_rejected,
    count_if(audit.transformed_at is null) as untransformed
from raw.load_audit as audit
where audit.loaded_at >= %(since)s and audit.loaded_at < %(until)s
group by audit.status
order by audit.status
