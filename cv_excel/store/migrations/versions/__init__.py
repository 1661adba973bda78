"""The store's schema revisions, one per file, named after their number (0001…)."""
