-- The checks failed: keep the scope they looked at (this run's with the earlier failed ones), so every later
-- run checks it again until they pass.
delete from raw.check_backlog;

insert into raw.check_backlog (since, dedup_since, purchases_from, purchases_until, failed_at)
select
    %(since)s::timestamp_ntz as since,
    %(dedup_since)s::timestamp_ntz as dedup_since,
    %(purchases_from)s::timestamp_ntz as purchases_from,
    %(purchases_until)s::timestamp_ntz as purchases_until,
    sysdate() as failed_at
