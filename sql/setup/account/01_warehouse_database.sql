-- Account objects, step 1 of 4, as SYSADMIN (CREATE WAREHOUSE and CREATE DATABASE on the account).
-- Real Snowflake only (the emulator has no warehouses or roles). The &{...} variables are filled by
-- `python -m warehouse setup --account-objects` from validated values, as SnowSQL's -D would.

use role sysadmin;

create warehouse if not exists &{warehouse}
warehouse_size = xsmall
auto_suspend = 60
auto_resume = true
initially_suspended = true;

create database if not exists &{database};

-- Both schemas exist before anything is created in them; step 2 hands them to the pipeline role.
create schema if not exists &{database}.raw;

create schema if not exists &{database}.analytics;
