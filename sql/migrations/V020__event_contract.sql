-- The event contract (config/event_contract.schema.json) as tables the transforms join, refreshed from the
-- file by every setup run, and the value drift it lets through. Replaces raw.accepted_values, whose closed
-- sets for every field quarantined real purchases from a new city, OS version or payment method.

-- One row per field of the contract: required or not, closed (an unknown value is quarantined) or open
-- (any text loads as sent; values outside the known set are drift), the rule and its reason in words.
create table if not exists raw.contract_fields (
    field varchar,
    is_required boolean,
    is_closed boolean,
    rule varchar,
    reason varchar
);

-- The known values of each field that has a value set.
create table if not exists raw.known_values (
    field varchar,
    value varchar
);

-- One row per loaded record and open field whose value was outside the known set when it loaded.
create table if not exists raw.drift_observations (
    field varchar,
    value varchar,
    event_key varchar,
    created_at timestamp_ntz,
    loaded_at timestamp_ntz
);

-- Values outside the contract's current known sets, as loaded: a value added to the contract later drops out.
create or replace view analytics.value_drift as
select
    observed.field,
    observed.value,
    min(observed.created_at) as first_seen,
    max(observed.created_at) as last_seen,
    min(observed.loaded_at) as first_loaded_at,
    count(*) as count
from raw.drift_observations as observed
left join raw.known_values as known
    on observed.field = known.field and observed.value = known.value
where known.value is null
group by observed.field, observed.value;

drop table if exists raw.accepted_values;
