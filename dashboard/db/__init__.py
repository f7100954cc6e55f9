"""The database room: the schema and its migrations, engines and their errors,
the health check, PostgreSQL roles and the audit trail's writer.

The one place an engine is made (``database.make_reader``, ``make_writer``).
Imports only the shared ground (``dashboard.config``, ``station``, ``timeutil``…).
"""
