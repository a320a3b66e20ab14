-- The claimed batch's bounds, which the statements after the claim get as constants (so that Snowflake prunes
-- by them when it compiles each statement; a bound read by a subquery may not prune):
-- batch_landed_from / batch_loaded_until: every raw row and audit row of the batch's files was loaded in this
-- window (until: a second past the newest audit row, for the timestamps' fractions);
-- dedup_since: how far back the models look for an earlier copy of a record, %(dedup_horizon_days)s days (the
-- dedup horizon) before the batch's oldest file, or before a replayed file's first load (raw.replayed_files);
-- left_queued: the files this batch did not claim (a backlog is done in slices: the run claims again after it).
select
    min(queue.landed_at) as batch_landed_from,
    dateadd('second', 1, max(queue.loaded_at)) as batch_loaded_until,
    dateadd(
        'day',
        -%(dedup_horizon_days)s,
        least(min(queue.landed_at), coalesce(min(replayed.first_loaded_at), min(queue.landed_at)))
    ) as dedup_since,
    (
        select count(*)
        from raw.transform_queue as waiting
        where coalesce(waiting.transform_batch_id, '') != %(batch_id)s
    ) as left_queued
from raw.transform_queue as queue
left join raw.replayed_files as replayed on queue.file_name = replayed.file_name
where queue.transform_batch_id = %(batch_id)s
