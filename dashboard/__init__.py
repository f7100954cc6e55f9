"""警网融合指挥大屏: shared pieces of the dashboard (settings, database, filters, UI, demo)."""
