"""``python -m dashboard.migrate``: Upgrade the database to the schema's head (``dashboard.db.migrate``)."""

import sys

from dashboard.db.migrate import main

if __name__ == "__main__":
    sys.exit(main())
