-- Give the lease back (only if this holder still has it); the holder's columns stay, for the record.
update raw.pipeline_lease
set
    token = null,
    released_at = sysdate()
where lease_name = 'pipeline' and token = %(lease_token)s
