-- Mark the batch's files as transformed and take them off the queue: the next batch starts after them. Each
-- statement can run again, in this order: a batch that stopped between them leaves its files queued, and the
-- next batch redoes them. The audit is read within the batch's load window (constants), never whole.
update raw.load_audit as audit
set
    transform_batch_id = %(batch_id)s,
    transformed_at = sysdate()
where
    audit.loaded_at >= %(batch_landed_from)s::timestamp_ntz
    and audit.loaded_at < %(batch_loaded_until)s::timestamp_ntz
    and audit.transformed_at is null
    and audit.load_id in (
        select queue.load_id
        from raw.transform_queue as queue
        where queue.transform_batch_id = %(batch_id)s
    );

-- A replayed file's reload is done: its first load time no longer matters.
delete from raw.replayed_files
where file_name in (
    select queue.file_name
    from raw.transform_queue as queue
    where queue.transform_batch_id = %(batch_id)s
);

delete from raw.transform_queue
where transform_batch_id = %(batch_id)s
