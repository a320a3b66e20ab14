{{ config(schema='analytics', incremental_strategy='merge', unique_key='user_id') }}
-- One row per user: the attributes of their latest event by event time, first and last seen. The batch's
-- users are merged with what the table holds for them, so a late event never overwrites newer attributes.
with

valid as (
    select stg.*
    from {{ ref('int_events_validated') }} as stg
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
),

batch_users as (
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
)

{%- if is_incremental() %},

-- What the table holds for the batch's users, and whether the batch saw each one later than it did.
compared as (
    select
        batch_users.*,
        known.os_user as known_os_user,
        known.city as known_city,
        known.latitude as known_latitude,
        known.longitude as known_longitude,
        known.device_model as known_device_model,
        coalesce(known.first_seen_at, batch_users.first_seen_at) as known_first_seen_at,
        coalesce(known.last_seen_at, batch_users.last_seen_at) as known_last_seen_at,
        coalesce(batch_users.last_seen_at >= known.last_seen_at, true) as is_newer
    from batch_users
    left join {{ this }} as known on batch_users.user_id = known.user_id
)

select
    compared.user_id,
    iff(compared.is_newer, compared.os_user, compared.known_os_user) as os_user,
    iff(compared.is_newer, compared.city, compared.known_city) as city,
    iff(compared.is_newer, compared.latitude, compared.known_latitude) as latitude,
    iff(compared.is_newer, compared.longitude, compared.known_longitude) as longitude,
    iff(compared.is_newer, compared.device_model, compared.known_device_model) as device_model,
    least(compared.first_seen_at, compared.known_first_seen_at) as first_seen_at,
    greatest(compared.last_seen_at, compared.known_last_seen_at) as last_seen_at
from compared
{%- else %}

select * from batch_users
{%- endif %}
