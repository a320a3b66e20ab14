-- The lease every writer of the pipeline takes (warehouse/exclusion.py, docs/exclusion.md): one row, whose
-- TOKEN is the holder's fencing token (NULL when free). Every write transaction first updates this row where
-- TOKEN is its own, so a holder that was fenced off rolls back instead of writing.
create table if not exists raw.pipeline_lease (
    lease_name varchar,
    token varchar,
    holder varchar,
    task_key varchar,
    run_key varchar,
    attempt number(6, 0),
    acquired_at timestamp_ntz,
    renewed_at timestamp_ntz,
    expires_at timestamp_ntz,
    released_at timestamp_ntz
);

insert into raw.pipeline_lease (lease_name)
select 'pipeline' as lease_name
where not exists (
    select 1 from raw.pipeline_lease as lease
    where lease.lease_name = 'pipeline'
);
