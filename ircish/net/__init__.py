"""I/O adapters: the selectors loop and socket connections."""
