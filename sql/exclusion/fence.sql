-- Re-validate (and renew) the lease: one row when this holder still has it, none once another took it over.
-- Run first in each write transaction, it also locks the row until the transaction ends, so a takeover
-- waits for the transaction instead of overlapping it.
update raw.pipeline_lease
set
    renewed_at = sysdate(),
    expires_at = dateadd('second', %(lease_ttl_seconds)s, sysdate())
where lease_name = 'pipeline' and token = %(lease_token)s
