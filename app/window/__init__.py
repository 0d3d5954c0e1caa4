"""The main window: a sidebar of pages (app/pages) and their stack."""
