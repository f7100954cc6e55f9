"""Bringing a station's own data: ``python -m dashboard.load`` (see ``__main__``).

``sources`` reads files as text, ``mapping`` turns a mapping file into field
rules, ``places`` loads communities and grids, ``records`` loads incidents,
reports (with their tasks) and disputes, ``gps`` patrol GPS tracks (teams,
shifts and points).
"""
