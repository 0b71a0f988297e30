"""bounds package (placeholder, filled in by its issue)."""
