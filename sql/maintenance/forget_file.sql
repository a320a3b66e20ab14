-- Replay: forget one file's raw rows and audit rows, so the next load run loads it again from S3.
-- The transforms' MERGEs are keyed on each event's id, so reloaded events are not counted twice.
delete from raw.events_raw
where load_id in (
    select audit.load_id
    from raw.load_audit as audit
    where audit.file_name = %(file_name)s
);

delete from raw.load_audit
where file_name = %(file_name)s;
