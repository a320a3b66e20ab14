-- Files that need a person, whenever they happened, as the load reports them: FAILED (unreadable) or
-- REJECTED_KEY (the key is not one canonical path) with no loaded version since. One row per file (its
-- newest record), the newest 20 of each status, each status's count on every row. A name or error longer
-- than 300 characters is cut, and says so.
with

needing_a_person as (
    select
        audit.status,
        audit.file_name,
        audit.error,
        audit.loaded_at
    from raw.load_audit as audit
    where
        audit.status in ('FAILED', 'REJECTED_KEY')
        and not exists (
            select 1 from raw.load_audit as loaded
            where loaded.file_name = audit.file_name and loaded.status = 'LOADED'
        )
    qualify row_number() over (partition by audit.file_name order by audit.loaded_at desc) = 1
),

newest as (
    select
        needing_a_person.status,
        needing_a_person.file_name,
        needing_a_person.error,
        needing_a_person.loaded_at,
        count(*) over (partition by needing_a_person.status) as files
    from needing_a_person
    qualify row_number() over (partition by needing_a_person.status order by needing_a_person.loaded_at desc) <= 20
)

select
    newest.status,
    newest.files,
    newest.loaded_at,
    iff(
        length(newest.file_name) > 300,
        left(newest.file_name, 300) || ' [... cut, ' || length(newest.file_name)::varchar || ' characters in all]',
        newest.file_name
    ) as file_name,
    iff(
        length(newest.error) > 300,
        left(newest.error, 300) || ' [... cut, ' || length(newest.error)::varchar || ' characters in all]',
        newest.error
    ) as error
from newest
order by newest.status asc, newest.loaded_at desc
