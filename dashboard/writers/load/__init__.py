"""Bringing a station's own data: ``python -m dashboard.load`` (the command line is ``cli``).

``sources`` reads files as text, ``mapping`` turns a mapping file into field
rules, ``places`` loads communities and grids, ``records`` loads incidents,
reports (with their tasks) and disputes, ``gps`` patrol GPS tracks (teams,
shifts and points).
"""
