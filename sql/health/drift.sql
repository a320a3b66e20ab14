-- Drift: values of open (descriptive) fields outside the contract's known sets that first loaded in the
-- window, most frequent first, with the window's number of new values on every row. A value longer than
-- 300 characters is cut, and says so.
with

new_values as (
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
)

select
    new_values.first_seen,
    new_values.last_seen,
    new_values.records,
    new_values.new_values,
    new_values.field,
    iff(
        length(new_values.value) > 300,
        left(new_values.value, 300) || ' [... cut, ' || length(new_values.value)::varchar || ' characters in all]',
        new_values.value
    ) as value
from new_values
order by new_values.records desc, new_values.field asc, new_values.value asc
