-- Claim every loaded file the transforms have not finished, for this batch. A batch that failed half-way
-- left its files unfinished, so the next batch claims them again and the idempotent models redo them.
update raw.load_audit
set transform_batch_id = %(batch_id)s
where status = 'LOADED' and transformed_at is null
