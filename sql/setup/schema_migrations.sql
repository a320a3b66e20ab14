-- One row per applied migration (sql/migrations/V<NNN>__<name>.sql); the runner creates it before the first.
create table if not exists raw.schema_migrations (
    version number(3, 0),
    name varchar,
    checksum varchar,
    applied_at timestamp_ntz
);
