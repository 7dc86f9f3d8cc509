"""Append-only, hash-chained mutation log and the read-access log."""
