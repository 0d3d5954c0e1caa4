"""SQLite storage: connections, forward-only migrations and the single writer thread.

`db` opens connections (WAL, busy timeout) and the two databases, `migrations` applies the
named migrations from `schema`, and `writer.DbWriter` owns the one write connection per file.
"""
