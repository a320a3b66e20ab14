-- Replay: forget the files named in forgotten_files (their raw rows, queue rows and audit rows), so the next
-- load run loads them again from S3. The models are keyed on each event's id, so reloaded events are not
-- counted twice: each loaded file's first load time is kept (raw.replayed_files), and the transform of its
-- reload looks for earlier copies of its records from the dedup horizon before that time, however long ago.
-- Firehose's keys sort by delivery time and files load in that order, so the file names prune like a time.
insert into raw.replayed_files (file_name, first_loaded_at, forgotten_at)
select
    audit.file_name,
    min(audit.loaded_at) as first_loaded_at,
    sysdate() as forgotten_at
from raw.load_audit as audit
where
    audit.status = 'LOADED'
    and audit.file_name in (select forgotten.file_name from forgotten_files as forgotten)
group by audit.file_name;

delete from raw.events_raw
where file_name in (select forgotten.file_name from forgotten_files as forgotten);

delete from raw.transform_queue
where file_name in (select forgotten.file_name from forgotten_files as forgotten);

delete from raw.load_audit
where file_name in (select forgotten.file_name from forgotten_files as forgotten);
