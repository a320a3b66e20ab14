-- raw.events_raw.record_hash: SHA-256 (hex) of the line exactly as it was delivered and landed, one per raw
-- record. It keys records without an EVENT_ID (the seed's) and tells conflicting duplicates apart without
-- TO_JSON, whose key order Snowflake does not guarantee. Rows loaded before this migration keep NULL.
alter table raw.events_raw add column if not exists record_hash varchar
