"""``python -m aws_infrastructure``: see cli.py."""

import sys

from aws_infrastructure.cli import main

sys.exit(main())
