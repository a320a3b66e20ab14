-- Parse and classify a batch's landed lines once, for sql/load/events_raw.sql and sql/load/rejected_lines.sql:
-- a line with no reason is a JSON object (a raw record); every other non-blank line is quarantined with the
-- reason (a trailing comma is named before a parse failure: parsers differ on it, the reason must not).
-- Blank lines are delimiters, not events. A CRLF file's lines may keep their CR (Snowflake splits on the
-- format's RECORD_DELIMITER, LF): a trailing CR is whitespace, dropped before the line is parsed, hashed or
-- quarantined, so a record's hash is the same whichever line ending delivered it. landing_lines,
-- landing_files and landing_parsed are the session's temporary tables (see the loader).
insert into landing_parsed (line, record, record_hash, file_name, load_id, reason)
with

landed as (
    select
        iff(endswith(lines.line, chr(13)), left(lines.line, length(lines.line) - 1), lines.line) as line,
        files.file_name,
        files.load_id
    from landing_lines as lines
    inner join landing_files as files on lines.file_name = files.staged_name
    -- A line that starts an object is not blank: only other lines are trimmed to find out.
    where startswith(lines.line, '{') or trim(lines.line) != ''
),

checked as (
    select
        landed.line,
        landed.file_name,
        landed.load_id,
        contains(landed.line, '�') as is_not_utf8,
        -- A trailing comma before } or ] outside a string: not JSON (RFC 8259), whatever a parser forgives.
        -- The full test runs only on lines holding a comma before } or ] at all, found by a search
        -- (REGEXP_SUBSTR: no match is NULL on Snowflake, '' on the emulator; on the emulator a search costs a
        -- quarter of a whole-line REGEXP_LIKE).
        -- Whitespace is [[:space:]]: inside a bracket Snowflake's POSIX regular expressions read a backslash
        -- as itself, not an escape.
        case
            when coalesce(regexp_substr(landed.line, ',[[:space:]]*[]}]'), '') != ''
                then regexp_like(landed.line, '([^"]|"([^"\\\\]|\\\\.)*")*,[[:space:]]*[]}].*')
            else false
        end as has_trailing_comma
    from landed
),

parsed as (
    select
        checked.*,
        iff(checked.is_not_utf8 or checked.has_trailing_comma, null, try_parse_json(checked.line)) as record
    from checked
),

classified as (
    select
        parsed.line,
        parsed.record,
        parsed.file_name,
        parsed.load_id,
        case
            when parsed.is_not_utf8
                then 'not UTF-8: the line holds bytes that are not UTF-8 text (landed as U+FFFD)'
            when parsed.has_trailing_comma
                then 'malformed JSON: a trailing comma before } or ]'
            when parsed.record is null
                then 'malformed JSON: the line does not parse (or repeats a key, or is a piece of a split record)'
            when not startswith(parsed.line, '{') and not startswith(ltrim(parsed.line), '{')
                then 'not a JSON object: the line is valid JSON of another type'
        end as reason
    from parsed
)

-- The line itself is kept for quarantine only; a record's is its RECORD.
select
    iff(classified.reason is null, null, classified.line) as line,
    iff(classified.reason is null, classified.record, null) as record,
    sha2(classified.line, 256) as record_hash,
    classified.file_name,
    classified.load_id,
    classified.reason
from classified
