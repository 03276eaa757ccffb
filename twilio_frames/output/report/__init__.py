"""The HTML report: build (tables and figures), page (the document), html (markup), write (the folder)."""
