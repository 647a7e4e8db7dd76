"""Routes: ingest (uploads), models (queries), deployments and policies, tea, ui."""
