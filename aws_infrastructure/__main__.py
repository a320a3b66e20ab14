"""``mobile-events-aws``: see cli.py."""

import sys

from mobile_events_elt.aws_infrastructure.cli import main

sys.exit(main())
