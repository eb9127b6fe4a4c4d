"""The service: a FastAPI app (API + internal page) over the same core the CLI uses."""
