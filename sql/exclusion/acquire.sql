-- Take the lease: when it is free, expired, or held by the same Airflow task in an earlier try or another run
-- (Airflow runs one at a time, so that holder is dead or a zombie, which this one fences off); and, for a load
-- or transform, only when the database has the schema version the code expects. One statement, so an
-- ordinary run pays nothing for the version check.
update raw.pipeline_lease
set
    token = %(lease_token)s,
    holder = %(lease_holder)s,
    task_key = %(lease_task_key)s,
    run_key = %(lease_run_key)s,
    attempt = %(lease_attempt)s,
    acquired_at = sysdate(),
    renewed_at = sysdate(),
    expires_at = dateadd('second', %(lease_ttl_seconds)s, sysdate()),
    released_at = null
where
    lease_name = 'pipeline'
    and (
        token is null
        or expires_at < sysdate()
        or (
            task_key = %(lease_task_key)s
            and (run_key != %(lease_run_key)s or attempt < %(lease_attempt)s)
        )
    )
    and (
        %(schema_version)s is null
        or %(schema_version)s = (select max(migrations.version) from raw.schema_migrations as migrations)
    )
