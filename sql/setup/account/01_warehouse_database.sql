-- Account objects, step 1 of 5, as SYSADMIN (CREATE WAREHOUSE and CREATE DATABASE on the account).
-- Real Snowflake only (the emulator has no warehouses or roles). The &{...} variables are filled by
-- `python -m warehouse setup --account-objects` from validated values, as SnowSQL's -D would.

use role sysadmin;

create warehouse if not exists &{warehouse}
warehouse_size = xsmall
auto_suspend = 60
auto_resume = true
initially_suspended = true;

create database if not exists &{database};

-- Both schemas exist before anything is created in them, and SYSADMIN owns them. With managed access only
-- their owner or a role with MANAGE GRANTS may grant privileges on the objects in them: the pipeline role
-- owns the tables it creates but cannot share them. Step 3 turns it on for schemas made before.
create schema if not exists &{database}.raw with managed access;

create schema if not exists &{database}.analytics with managed access;
