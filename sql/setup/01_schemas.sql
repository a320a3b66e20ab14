-- Schemas inside the pipeline's database (the database itself is created from config by the runner).
create schema if not exists raw;
create schema if not exists analytics;
