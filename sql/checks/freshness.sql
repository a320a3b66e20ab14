-- Freshness: once files have loaded, the newest loaded file must be younger than the configured limit.
-- Files that failed to load do not count: a stream of unreadable files is not fresh data.
select count(*) as failures
from (
    select max(audit.loaded_at) as newest
    from raw.load_audit as audit
    where audit.status = 'LOADED'
) as latest
where latest.newest < dateadd('hour', -%(freshness_hours)s, sysdate())
