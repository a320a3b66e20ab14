-- Claim, for this batch, the oldest loaded files the transforms have not finished: whole files, in load
-- order, until the batch holds %(max_rows)s records (always at least one file), so a backlog is transformed
-- in slices whose working set stays bounded. A batch that failed half-way left its files unfinished, so the
-- next batch claims them again and the idempotent models redo them.
update raw.load_audit
set transform_batch_id = %(batch_id)s
where load_id in (
    select pending.load_id
    from (
        select
            audit.load_id,
            sum(audit.rows_loaded) over (
                order by audit.loaded_at, audit.file_name, audit.load_id
                rows between unbounded preceding and current row
            ) - audit.rows_loaded as rows_before
        from raw.load_audit as audit
        where audit.status = 'LOADED' and audit.transformed_at is null
    ) as pending
    where pending.rows_before < %(max_rows)s
)
