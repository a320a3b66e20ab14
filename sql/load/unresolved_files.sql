-- Files parked FAILED (unreadable) or REJECTED_KEY (unsafe key) that no later version has loaded: a person
-- must replace, replay or remove each one. As many rows as such files, whatever the audit's size.
select
    failed.file_name,
    failed.status,
    failed.error
from raw.load_audit as failed
where
    failed.status in ('FAILED', 'REJECTED_KEY')
    and not exists (
        select 1 from raw.load_audit as loaded
        where loaded.file_name = failed.file_name and loaded.status = 'LOADED'
    )
