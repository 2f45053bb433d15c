"""Where entra-hunt keeps its data, and the settings read from the environment.

``ENTRA_HUNT_DATABASE`` overrides the local database path (default: ``signins.duckdb`` in the
user data directory, e.g. ``~/.local/share/entra-hunt`` on Linux). The CLI's ``--database``
option overrides both.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

__all__ = ["DATABASE_ENV", "default_database"]

DATABASE_ENV = "ENTRA_HUNT_DATABASE"


def default_database() -> Path:
    """The local database path: $ENTRA_HUNT_DATABASE, else the user data directory."""
    configured = os.environ.get(DATABASE_ENV, "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(user_data_dir("entra-hunt", appauthor=False)) / "signins.duckdb"
