"""领导汇报 on paper and in files: the briefing's words, charts, map, tables and its
PDF, printable HTML and Excel workbook, all made on the server from one
``queries.briefing.Briefing`` (no Streamlit here; the desk page and
``python -m dashboard.briefing`` both call ``export``).

* ``words``: figures as text and the generated summary paragraph;
* ``tables``: the briefing's tables with Chinese headers (HTML and Excel);
* ``charts``: the plotly figures (the page draws them; the files embed them as SVG via kaleido);
* ``staticmap``: the grid map as SVG, drawn from the boundaries without tiles;
* ``document``: the HTML document (A4, header, page numbers);
* ``export``: PDF (WeasyPrint), HTML, Excel (openpyxl) bytes.
"""
