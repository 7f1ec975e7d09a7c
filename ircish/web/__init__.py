"""The bundled web client: static files served by the server's HTTP side (``static/``)."""
