-- One row per non-null step of a session, with its position; its id is the session's key and the position.
-- A UNION ALL of the four fixed step columns (measured ~10x faster than FLATTEN over an array). Insert-only
-- (a session's steps never change): this one statement inserts all of a session's steps, so a session that
-- already has steps here is skipped whole (an anti-join on the session, cheaper than a MERGE on each step).
insert into analytics.events (
    event_id, order_id, user_id, event_name, event_position, event_timestamp
)
with

valid as (
    select stg.*
    from stg_events as stg
    where
        stg.reason is null
        and not exists (
            select 1 from analytics.events as known
            where known.order_id = stg.event_key
        )
),

steps as (
    select
        valid.event_key,
        valid.user_id,
        valid.created_at,
        valid.initial_event as event_name,
        1 as event_position
    from valid
    union all
    select
        valid.event_key,
        valid.user_id,
        valid.created_at,
        valid.event_2 as event_name,
        2 as event_position
    from valid
    union all
    select
        valid.event_key,
        valid.user_id,
        valid.created_at,
        valid.event_3 as event_name,
        3 as event_position
    from valid
    union all
    select
        valid.event_key,
        valid.user_id,
        valid.created_at,
        valid.event_out as event_name,
        4 as event_position
    from valid
)

select
    steps.event_key || ':' || steps.event_position as event_id,
    steps.event_key as order_id,
    steps.user_id,
    steps.event_name,
    steps.event_position,
    steps.created_at as event_timestamp
from steps
where steps.event_name is not null
