"""ircish: an IRC-like multi-room chat server for netcat users and IRC clients."""

__version__ = "0.1.0"

__all__ = ["__version__"]
