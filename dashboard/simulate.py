"""``python -m dashboard.simulate``: the live simulator (``dashboard.writers.simulate``)."""

import sys

from dashboard.writers.simulate import main

if __name__ == "__main__":
    sys.exit(main())
