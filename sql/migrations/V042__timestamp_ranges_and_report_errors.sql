-- The valid range of each timestamp field of the event contract (config/event_contract.schema.json:
-- x-valid-from, x-valid-hours-ahead), copied into raw.contract_fields by every setup run with the rest of the
-- contract: the transforms quarantine a time outside it. VALID_RANGE is the range in words, for the reason.
alter table raw.contract_fields add column if not exists valid_from timestamp_ntz;
alter table raw.contract_fields add column if not exists valid_hours_ahead number(38, 0);
alter table raw.contract_fields add column if not exists valid_range varchar;

-- The error each failing report (sql/checks/reports/) last failed with, as logged (cut and escaped), and since
-- when: a report that keeps failing the same way is logged and alerted once, not every run. A report that
-- works again loses its row.
create table if not exists raw.report_errors (
    report varchar,
    error varchar,
    failing_since timestamp_ntz
);
