-- Record a file as loaded, in the same transaction as its rows.
insert into raw.load_audit (
    file_name, file_etag, file_size, load_id, status, rows_loaded, rows_rejected, loaded_at
)
select
    %(file_name)s as file_name,
    %(file_etag)s as file_etag,
    %(file_size)s as file_size,
    %(load_id)s as load_id,
    'LOADED' as status,
    (
        select count(*) from raw.events_raw
        where load_id = %(load_id)s
    ) as rows_loaded,
    (
        select count(*) from raw.rejected_events
        where load_id = %(load_id)s
    ) as rows_rejected,
    sysdate() as loaded_at
