-- The statements of one run of a task (its tries' QUERY_TAGs start with the run's key), from the current user's
-- query history (a user sees its own queries), but for the caller's own: a writer taking the lease over from an
-- earlier try or run cancels those still running and aborts their sessions' open transactions.
with

history as (
    select *
    from table(information_schema.query_history_by_user(
        end_time_range_start => dateadd('hour', -6, current_timestamp()),
        result_limit => 10000
    ))
)

select
    history.query_id,
    history.session_id,
    history.query_tag,
    history.execution_status
from history
where startswith(history.query_tag, %(tag_prefix)s) and history.query_tag != %(query_tag)s
