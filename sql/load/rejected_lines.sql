-- Split a batch's landed lines: every non-blank line that is not a JSON object goes to quarantine with the
-- reason, by the tests of sql/load/events_raw.sql (a trailing comma is named before a parse failure: parsers
-- differ on it, the reason must not). Blank lines are delimiters, not events.
-- A line delivered twice is quarantined once (reject_id).
insert into raw.rejected_events (
    reject_id, raw_text, file_name, reason, rejected_in, load_id, rejected_at
)
with

landed as (
    select
        lines.line,
        files.file_name,
        files.load_id
    from landing_lines as lines
    inner join landing_files as files on lines.file_name = files.staged_name
    where trim(lines.line) != ''
),

classified as (
    select
        sha2(landed.line, 256) as reject_id,
        landed.line,
        landed.file_name,
        landed.load_id,
        case
            when contains(landed.line, '�')
                then 'not UTF-8: the line holds bytes that are not UTF-8 text (landed as U+FFFD)'
            when regexp_like(landed.line, '([^"]|"([^"\\\\]|\\\\.)*")*,[ \\t]*[]}].*')
                then 'malformed JSON: a trailing comma before } or ]'
            when try_parse_json(landed.line) is null
                then 'malformed JSON: the line does not parse (or repeats a key, or is a piece of a split record)'
            when not startswith(ltrim(landed.line), '{')
                then 'not a JSON object: the line is valid JSON of another type'
        end as reason
    from landed
)

select
    classified.reject_id,
    classified.line as raw_text,
    classified.file_name,
    classified.reason,
    'load' as rejected_in,
    classified.load_id,
    sysdate() as rejected_at
from classified
where
    classified.reason is not null
    and not exists (
        select 1 from raw.rejected_events as known
        where known.reject_id = classified.reject_id
    )
qualify row_number() over (partition by classified.reject_id order by classified.file_name) = 1
