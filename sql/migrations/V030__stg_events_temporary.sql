-- The staging table is now a temporary table of the transforming session (sql/transform/01_stg_events.sql):
-- private to one run and never stored. The transient table it replaces holds nothing worth keeping.
drop table if exists raw.stg_events
