"""The embedded store (SQLite): every submission, the accepted data, the programmation
snapshots — multi-year and multi-contrat; the single source of the consolidation."""
