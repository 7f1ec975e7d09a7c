"""Wire-level pieces shared by the server and the client; no sockets here."""
