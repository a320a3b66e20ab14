-- Split one file's landed lines: what is not a JSON object goes to quarantine with the reason.
-- Blank lines are delimiters, not events. A line delivered twice is quarantined once (reject_id).
insert into raw.rejected_events (
    reject_id, raw_text, file_name, reason, rejected_in, load_id, rejected_at
)
select
    classified.reject_id,
    classified.line as raw_text,
    %(file_name)s as file_name,
    classified.reason,
    'load' as rejected_in,
    %(load_id)s as load_id,
    sysdate() as rejected_at
from (
    select
        sha2(lines.line, 256) as reject_id,
        lines.line,
        case
            when try_parse_json(lines.line) is null then 'malformed JSON: the line does not parse'
            else 'not a JSON object: the line is valid JSON of another type'
        end as reason
    from raw.landing_lines as lines
    where
        trim(coalesce(lines.line, '')) != ''
        and (try_parse_json(lines.line) is null or not startswith(ltrim(lines.line), '{'))
) as classified
where
    not exists (
        select 1 from raw.rejected_events as known
        where known.reject_id = classified.reject_id
    )
qualify row_number() over (partition by classified.reject_id order by classified.line) = 1
