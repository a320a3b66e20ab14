-- Report, never a failure: values of open fields outside the contract's known sets that first loaded in the
-- last day, the most frequent first (at most 100 a run, of which the run logs 20 and counts the rest). They
-- are in the tables as sent; to make one known, add it to config/event_contract.schema.json.
-- analytics.value_drift holds them all, whole. Here a value is cut to its first 200 characters and how many
-- more it had, so a run never fetches (or logs) a value of megabytes; the log escapes control characters.
select
    drift.field,
    left(drift.value, 200)
    || iff(length(drift.value) > 200, '…[' || (length(drift.value) - 200)::varchar || ' more characters]', '')
        as value,
    drift.first_seen,
    drift.count
from analytics.value_drift as drift
where drift.first_loaded_at >= dateadd('hour', -24, sysdate())
order by drift.count desc, drift.field asc, drift.value asc
limit 100
