-- The data tests run inside each batch's dbt build (sql/models, sql/tests): a batch whose tests fail stays
-- queued and is built and tested again by the next run, so no scope of failed checks is kept any more.
drop table if exists raw.check_backlog;
