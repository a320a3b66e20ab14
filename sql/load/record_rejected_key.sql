-- Record an object whose key cannot be loaded (not one canonical stage path). Like a FAILED file it is
-- remembered, so it is not retried every run, and stays visible, with the reason, until someone renames it.
insert into raw.load_audit (
    file_name, file_etag, file_size, load_id, status, rows_loaded, rows_rejected, error, loaded_at
)
select
    %(file_name)s as file_name,
    %(file_etag)s as file_etag,
    %(file_size)s as file_size,
    %(load_id)s as load_id,
    'REJECTED_KEY' as status,
    0 as rows_loaded,
    0 as rows_rejected,
    %(error)s as error,
    sysdate() as loaded_at
