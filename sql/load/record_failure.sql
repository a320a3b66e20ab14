-- Record a file that cannot be loaded: FAILED (it could not be read at all: truncated gzip, ...) or
-- REJECTED_KEY (its key is not one canonical stage path). It does not block the other files, is not retried
-- every run, and stays visible, with the reason, until someone replaces or removes it.
insert into raw.load_audit (
    file_name, file_etag, file_size, load_id, status, rows_loaded, rows_rejected, error, loaded_at
)
select
    %(file_name)s as file_name,
    %(file_etag)s as file_etag,
    %(file_size)s as file_size,
    %(load_id)s as load_id,
    %(status)s as status,
    0 as rows_loaded,
    0 as rows_rejected,
    %(error)s as error,
    sysdate() as loaded_at
