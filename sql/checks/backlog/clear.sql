-- The checks passed on everything kept: nothing is owed any more.
delete from raw.check_backlog
