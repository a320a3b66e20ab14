-- One row per user: the attributes of their latest event by event time, first and last seen.
merge into analytics.users as target
using (
    with

    valid as (
        select stg.*
        from stg_events as stg
        where stg.reason is null
    ),

    seen as (
        select
            valid.user_id,
            min(valid.created_at) as first_seen_at,
            max(valid.created_at) as last_seen_at
        from valid
        group by valid.user_id
    ),

    latest as (
        select valid.*
        from valid
        qualify row_number() over (
            partition by valid.user_id
            order by valid.created_at desc, valid.event_key desc
        ) = 1
    )

    select
        latest.user_id,
        latest.os_user,
        latest.city,
        latest.latitude,
        latest.longitude,
        latest.device_model,
        seen.first_seen_at,
        seen.last_seen_at
    from latest
    inner join seen on latest.user_id = seen.user_id
) as source
    on target.user_id = source.user_id
when matched then
    update set
        os_user = iff(source.last_seen_at >= target.last_seen_at, source.os_user, target.os_user),
        city = iff(source.last_seen_at >= target.last_seen_at, source.city, target.city),
        latitude = iff(source.last_seen_at >= target.last_seen_at, source.latitude, target.latitude),
        longitude = iff(source.last_seen_at >= target.last_seen_at, source.longitude, target.longitude),
        device_model = iff(source.last_seen_at >= target.last_seen_at, source.device_model, target.device_model),
        first_seen_at = least(source.first_seen_at, target.first_seen_at),
        last_seen_at = greatest(source.last_seen_at, target.last_seen_at)
when not matched then insert (
    user_id, os_user, city, latitude, longitude, device_model, first_seen_at, last_seen_at
) values (
    source.user_id, source.os_user, source.city, source.latitude, source.longitude, source.device_model,
    source.first_seen_at, source.last_seen_at
)
