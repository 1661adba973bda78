"""The store: every submission, the accepted data, the programmation snapshots —
multi-year and multi-contrat; the single source of the consolidation. An SQLite file in
the working folder by default, or a PostgreSQL database shared by the EPT's contrats
(``base`` of cv_excel.toml); one layer (SQLAlchemy Core) and one schema for both."""
