-- Claim, for this batch, the oldest queued files (raw.transform_queue: loaded, not yet transformed): whole
-- files, in load order, until the batch holds %(max_rows)s records (always at least one file), so a backlog is
-- transformed in slices whose working set stays bounded. The queue holds only what waits, so this reads the
-- backlog, never the audit's history. A batch that failed half-way left its files queued, so the next batch
-- claims them again and the idempotent models redo them.
update raw.transform_queue
set transform_batch_id = %(batch_id)s
where load_id in (
    select pending.load_id
    from (
        select
            queue.load_id,
            sum(queue.rows_loaded) over (
                order by queue.loaded_at, queue.file_name, queue.load_id
                rows between unbounded preceding and current row
            ) - queue.rows_loaded as rows_before
        from raw.transform_queue as queue
    ) as pending
    where pending.rows_before < %(max_rows)s
)
