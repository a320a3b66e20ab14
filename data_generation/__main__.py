"""``mobile-events-generate``: see data_generation.cli."""

import sys

from mobile_events_elt.data_generation.cli import main

sys.exit(main())
