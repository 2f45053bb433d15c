"""``python -m entra_hunt.cli``: the same as the ``entra-hunt`` command."""

from entra_hunt.cli import main

main()
