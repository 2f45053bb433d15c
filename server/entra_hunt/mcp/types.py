"""Types the MCP modules share."""

from __future__ import annotations

from collections.abc import Callable

from entra_hunt.backends.base import Backend
from entra_hunt.hunts import BackendName

__all__ = ["BackendFactory"]

#: Opens the backend a tool call asked for; raises EntraHuntError when it is not configured.
BackendFactory = Callable[[BackendName], Backend]
