-- A migration's statements all ran: record it so no later setup runs it again.
insert into raw.schema_migrations (version, name, checksum, applied_at)
values (%(version)s, %(name)s, %(checksum)s, sysdate());
