-- The files a replay forgets (sql/maintenance/forget_files.sql): a temporary table of the session, created
-- outside the replay's transaction (DDL commits). Unqualified, it lives in the session's current schema (RAW).
create temporary table if not exists forgotten_files (
    file_name varchar
)
