-- Quarantine in the window: records per reason (the 15 most frequent reasons), with the newest three
-- records of each as samples (first 500 characters), and the window's totals on every row.
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
        by_reason.reasons
    from by_reason
    order by by_reason.records desc, by_reason.reason asc
    limit 15
),

samples as (
    select
        in_window.reason,
        left(in_window.raw_text, 500) as sample_text,
        in_window.file_name,
        in_window.rejected_in
    from in_window
    qualify row_number() over (partition by in_window.reason order by in_window.rejected_at desc) <= 3
)

select
    top_reasons.reason,
    top_reasons.records,
    top_reasons.total_records,
    top_reasons.reasons,
    samples.sample_text,
    samples.file_name,
    samples.rejected_in
from top_reasons
inner join samples on top_reasons.reason = samples.reason
order by top_reasons.records desc, top_reasons.reason asc
