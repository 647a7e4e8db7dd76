"""Reading uploads into rows (extract, boms), storing them (ingest) and asking questions (queries)."""
