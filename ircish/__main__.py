"""``python -m ircish`` runs the server."""

from ircish.cli import main

raise SystemExit(main())
