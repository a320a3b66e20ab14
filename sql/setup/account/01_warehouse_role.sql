-- Account objects for real Snowflake only (the emulator cannot run them). Run as a role that may create
-- warehouses and roles (SYSADMIN + SECURITYADMIN, or ACCOUNTADMIN). Its &{...} variables are filled by
-- `python -m warehouse setup --account-objects` from validated configuration, as SnowSQL's -D would.

create warehouse if not exists &{warehouse}
warehouse_size = xsmall
auto_suspend = 60
auto_resume = true
initially_suspended = true;

create database if not exists &{database};

create role if not exists &{role};

-- Least privilege for the pipeline: use the warehouse, own nothing outside its database.
grant usage on warehouse &{warehouse} to role &{role};
grant usage, create schema on database &{database} to role &{role};
grant role &{role} to role sysadmin;
