"""``python -m ircish.client`` runs the terminal client."""

import sys

from ircish.client.app import main

sys.exit(main())
