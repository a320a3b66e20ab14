"""What the whole-stack tests query."""

from __future__ import annotations

# Event steps by their order's load time (the page's volume is per hour of loading); the same join is checked
# against the emulator in tests/test_health_page.py.
VOLUME_EVENTS = "analytics.events as events inner join analytics.orders as orders on events.order_id = orders.order_id"
