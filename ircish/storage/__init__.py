"""Storage back ends behind ``ircish.core.storage.Storage`` (SQLite is the embedded default)."""
