{{ config(tags=['whole_tables']) }}
-- Freshness: once files have loaded, the newest loaded file is younger than the configured limit
-- (freshness_hours). Files that failed to load do not count: a stream of unreadable files is not fresh data.
-- Tested with the whole tables (`mobile-events-warehouse check`), not in a batch's build: a batch is tested
-- for what it wrote, and a run finds a silent source in S3 before it reaches the warehouse. ORDER BY ... LIMIT 1
-- on the load time lets Snowflake stop at the newest micro-partitions, whatever the audit holds
-- (https://docs.snowflake.com/user-guide/querying-top-k-pruning-optimization). One row when stale.
with

newest as (
    select audit.loaded_at
    from {{ source('raw', 'load_audit') }} as audit
    where audit.status = 'LOADED' and audit.loaded_at is not null
    order by audit.loaded_at desc nulls last
    limit 1
)

select newest.loaded_at
from newest
where newest.loaded_at < dateadd('hour', -{{ var('freshness_hours') | int }}, sysdate())
