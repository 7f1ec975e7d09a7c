"""The chat core: state, commands and events, free of I/O."""
