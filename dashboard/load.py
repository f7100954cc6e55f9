"""``python -m dashboard.load``: Bring a station's own data (``dashboard.writers.load.cli``)."""

import sys

from dashboard.writers.load.cli import main

if __name__ == "__main__":
    sys.exit(main())
