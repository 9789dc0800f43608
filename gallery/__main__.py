"""Allow `python -m gallery`."""

import sys

from gallery.cli import main

sys.exit(main())
