"""``python -m remindkit``: the command line, for environments without the script on PATH."""

from remindkit.cli import main

main()
