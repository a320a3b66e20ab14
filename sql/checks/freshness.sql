-- Freshness: once files have loaded, the newest loaded file must be younger than the configured limit.
-- Files that failed to load do not count: a stream of unreadable files is not fresh data. Cheap whatever the
-- audit holds: ORDER BY ... LIMIT 1 on the load time lets Snowflake stop at the newest micro-partitions
-- (top-K pruning, https://docs.snowflake.com/user-guide/querying-top-k-pruning-optimization).
select count(*) as failures
from (
    select audit.loaded_at
    from raw.load_audit as audit
    where audit.status = 'LOADED' and audit.loaded_at is not null
    order by audit.loaded_at desc nulls last
    limit 1
) as newest
where newest.loaded_at < dateadd('hour', -%(freshness_hours)s, sysdate())
