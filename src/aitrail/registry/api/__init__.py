"""The HTTP side: the FastAPI app (main), its dependencies (deps) and routes."""
