"""Everything that writes a world into the database: the demo generator, the live
simulator, bulk loading, the importer of a station's own data (``load``) and the
accounts command. Readers never import this room (the one exception: the
dashboard's first run on an empty SQLite file writes the demo world)."""
