-- Record a file that could not be read at all (truncated gzip, not UTF-8, ...). It does not block the
-- other files; it stays FAILED, with the reason, until someone fixes or replaces it.
insert into raw.load_audit (
    file_name, file_etag, file_size, load_id, status, rows_loaded, rows_rejected, error, loaded_at
)
select
    %(file_name)s as file_name,
    %(file_etag)s as file_etag,
    %(file_size)s as file_size,
    %(load_id)s as load_id,
    'FAILED' as status,
    0 as rows_loaded,
    0 as rows_rejected,
    %(error)s as error,
    sysdate() as loaded_at
