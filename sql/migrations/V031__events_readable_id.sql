-- analytics.events.event_id is now '<order_id>:<position>' (sql/transform/04_events.sql): readable, as unique
-- as the SHA-256 of that same text it replaces, and without a hash computed per step. Rows written before
-- take the same form.
update analytics.events
set event_id = order_id || ':' || event_position
where event_id != order_id || ':' || event_position
