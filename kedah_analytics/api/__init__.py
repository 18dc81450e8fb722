"""The board's read-only HTTP API over the marts (FastAPI): the seeds' paths and field names, every
answer saying which data it holds, bound to 127.0.0.1 unless a token guards it."""
