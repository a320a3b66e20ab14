-- Full rebuild: empty the analytics tables and mark every loaded file as not yet transformed, so the
-- next transform run recomputes everything from RAW. The naive baseline the incremental runs beat,
-- and the way to apply a changed model to history.
truncate table analytics.orders;
truncate table analytics.events;
truncate table analytics.users;
truncate table analytics.purchase_counts;
delete from raw.rejected_events
where rejected_in = 'transform';
update raw.load_audit set transform_batch_id = null, transformed_at = null
where status = 'LOADED';
