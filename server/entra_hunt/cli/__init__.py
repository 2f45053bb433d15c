"""The ``entra-hunt`` command: hunt, load, serve, doctor.

Each command lives in its own module and registers itself on the shared typer app.
"""

from __future__ import annotations

import sys

from entra_hunt.cli import catalogue, data, doctor, hunt, serve
from entra_hunt.cli._app import app

__all__ = ["app", "main"]

_COMMANDS = (catalogue, data, doctor, hunt, serve)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except BrokenPipeError:
        # The reader went away (`entra-hunt ... | head`): not an error worth a message.
        sys.stderr.close()
        raise SystemExit(0) from None
