-- The statements of this task's earlier tries, found by their QUERY_TAG in the current user's query history
-- (a user sees its own queries): running ones are cancelled, and their sessions' open transactions aborted.
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
