-- Land every line of a delivered file whole, as text, whatever bytes it holds: no field delimiter (a raw
-- 0x01 or comma is just a character), no NULL_IF (a line that is exactly \N stays text), no quoting or
-- escaping, invalid UTF-8 replaced by U+FFFD (the split quarantines such a line) instead of failing the
-- file, blank lines skipped (they are delimiters, not events). A file format holds no data.
create or replace file format raw.ndjson_lines
    type = csv
    field_delimiter = none
    record_delimiter = '\n'
    skip_blank_lines = true
    escape = none
    escape_unenclosed_field = none
    field_optionally_enclosed_by = none
    null_if = ()
    empty_field_as_null = false
    replace_invalid_characters = true
    compression = auto;

-- The shared scratch table is replaced by session-private temporary tables (sql/load/landing_tables.sql).
drop table if exists raw.landing_lines
