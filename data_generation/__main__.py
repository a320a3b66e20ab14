"""``python -m data_generation``: see data_generation.cli."""

import sys

from data_generation.cli import main

sys.exit(main())
