-- Drift: values of open (descriptive) fields outside the contract's known sets that first loaded in the
-- window, most frequent first, with the window's number of new values on every row.
select
    drift.field,
    drift.value,
    drift.first_seen,
    drift.last_seen,
    drift.count as records,
    count(*) over () as new_values
from analytics.value_drift as drift
where drift.first_loaded_at >= %(since)s and drift.first_loaded_at < %(until)s
order by drift.count desc, drift.field asc, drift.value asc
limit 50
