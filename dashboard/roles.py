"""``python -m dashboard.roles``: PostgreSQL roles and grants for the reader, writer and audit accounts (``dashboard.db.roles``)."""

import sys

from dashboard.db.roles import main

if __name__ == "__main__":
    sys.exit(main())
