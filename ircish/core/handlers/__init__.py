"""Command handlers, one module per area; registered in ``ircish.core.dispatch``."""
