-- The accepted value per field (config/accepted_values.json, refreshed by every setup run).
create table if not exists raw.accepted_values (
    field varchar,
    value varchar
);
