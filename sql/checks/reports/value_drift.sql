-- Report, never a failure: values of open fields outside the contract's known sets that first loaded in the
-- last day. They are in the tables as sent; someone may add them to config/event_contract.schema.json.
select
    drift.field,
    drift.value,
    drift.first_seen,
    drift.count
from analytics.value_drift as drift
where drift.first_loaded_at >= dateadd('hour', -24, sysdate())
order by drift.field, drift.value
