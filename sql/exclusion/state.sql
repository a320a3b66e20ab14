-- Who holds the lease and until when, and the database's schema version: what a caller that could not take
-- the lease is told.
select
    lease.holder,
    lease.task_key,
    lease.run_key,
    lease.attempt,
    lease.acquired_at,
    lease.expires_at,
    lease.token is not null as is_held,
    coalesce(lease.expires_at < sysdate(), false) as is_expired,
    (select max(migrations.version) from raw.schema_migrations as migrations) as schema_version
from raw.pipeline_lease as lease
where lease.lease_name = 'pipeline'
