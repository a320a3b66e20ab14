-- Mark the batch's files as transformed: the next batch starts after them.
update raw.load_audit
set transformed_at = sysdate()
where transform_batch_id = %(batch_id)s and transformed_at is null
