"""``python -m arxivbot``: the same as the ``arxivbot`` command."""

from arxivbot.cli import main

main()
