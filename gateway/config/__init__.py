"""Configuration: declared settings, the import/export file format, persistence, snapshots."""
