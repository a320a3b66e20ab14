-- The scope of earlier runs whose checks failed (at most one row): checked again with this run's.
select
    backlog.since,
    backlog.dedup_since,
    backlog.purchases_from,
    backlog.purchases_until
from raw.check_backlog as backlog
