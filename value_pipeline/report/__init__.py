"""Report rendering: jinja2 templates to HTML, WeasyPrint to PDF."""
