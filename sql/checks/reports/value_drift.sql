-- Report, never a failure: values of open fields outside the contract's known sets that first loaded in the
-- last day, the most frequent first (at most 100 lines a run). They are in the tables as sent; to make one
-- known, add it to config/event_contract.schema.json. analytics.value_drift holds them all.
select
    drift.field,
    drift.value,
    drift.first_seen,
    drift.count
from analytics.value_drift as drift
where drift.first_loaded_at >= dateadd('hour', -24, sysdate())
order by drift.count desc, drift.field asc, drift.value asc
limit 100
