"""How every tool fails: a ToolError with a readable message, never a crash or a trace."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from entra_hunt.errors import EntraHuntError

__all__ = ["guarded"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def guarded(call: Callable[[], Awaitable[T]]) -> T:
    """Run a tool body; every failure becomes a ToolError with a readable message."""
    try:
        return await call()
    except EntraHuntError as exc:
        logger.info("tool failed: %s: %s", exc.kind, exc.message)
        raise ToolError(exc.message) from None
    except Exception:
        logger.exception("unexpected failure in a tool call")
        raise ToolError(
            "entra-hunt hit an unexpected internal error; the server is still running. "
            "Retry once; if it persists, report it with the server log (stderr)."
        ) from None
