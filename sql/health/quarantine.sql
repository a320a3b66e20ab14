-- Quarantine in the window: records per reason (the 15 most frequent reasons, ranked), with the newest
-- three records of each as samples, and the window's totals on every row. A reason, sample or file name
-- longer than 300 characters is cut, and says so.
with

in_window as (
    select
        rejected.reason,
        rejected.raw_text,
        rejected.file_name,
        rejected.rejected_in,
        rejected.rejected_at
    from raw.rejected_events as rejected
    where rejected.rejected_at >= %(since)s and rejected.rejected_at < %(until)s
),

by_reason as (
    select
        in_window.reason,
        count(*) as records,
        sum(count(*)) over () as total_records,
        count(*) over () as reasons
    from in_window
    group by in_window.reason
),

top_reasons as (
    select
        by_reason.reason,
        by_reason.records,
        by_reason.total_records,
        by_reason.reasons,
        row_number() over (order by by_reason.records desc, by_reason.reason asc) as reason_rank
    from by_reason
    order by reason_rank
    limit 15
),

samples as (
    select
        in_window.reason,
        in_window.raw_text,
        in_window.file_name,
        in_window.rejected_in
    from in_window
    qualify row_number() over (partition by in_window.reason order by in_window.rejected_at desc) <= 3
)

select
    top_reasons.reason_rank,
    top_reasons.records,
    top_reasons.total_records,
    top_reasons.reasons,
    samples.rejected_in,
    iff(
        length(top_reasons.reason) > 300,
        left(top_reasons.reason, 300) || ' [... cut, ' || length(top_reasons.reason)::varchar || ' characters in all]',
        top_reasons.reason
    ) as reason,
    iff(
        length(samples.raw_text) > 300,
        left(samples.raw_text, 300) || ' [... cut, ' || length(samples.raw_text)::varchar || ' characters in all]',
        samples.raw_text
    ) as sample_text,
    iff(
        length(samples.file_name) > 300,
        left(samples.file_name, 300) || ' [... cut, ' || length(samples.file_name)::varchar || ' characters in all]',
        samples.file_name
    ) as file_name
from top_reasons
inner join samples on top_reasons.reason = samples.reason
order by top_reasons.reason_rank asc
