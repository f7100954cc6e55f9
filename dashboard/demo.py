"""``python -m dashboard.demo``: write the seeded demo world (``dashboard.writers.demo``)."""

import sys

from dashboard.writers.demo import main

if __name__ == "__main__":
    sys.exit(main())
