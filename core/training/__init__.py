"""Training: the generic loop (`loop`) and per-track data and losses (`render`, `classic`)."""
