"""``python -m tensorcoder``: the command line (see tensorcoder.cli)."""

from tensorcoder import cli

cli.program()
