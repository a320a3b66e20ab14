-- Freshness: once files have arrived, the newest must be younger than the configured limit.
select count(*) as failures
from (
    select max(audit.loaded_at) as newest
    from raw.load_audit as audit
) as latest
where latest.newest < dateadd('hour', -%(freshness_hours)s, sysdate())
