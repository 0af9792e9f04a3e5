"""``python -m tensorcoder``: the command line (see tensorcoder.cli)."""

import sys

from tensorcoder import cli

sys.exit(cli.main())
