"""``python -m dashboard.users``: Accounts and roles (``dashboard.writers.users``)."""

import sys

from dashboard.writers.users import main

if __name__ == "__main__":
    sys.exit(main())
