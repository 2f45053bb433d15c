"""entra-hunt: vetted hunts for identity attacks in Microsoft Entra ID sign-in logs.

Runs as an MCP server and a CLI. The first hunt finds device code phishing (Storm-2372) on
Microsoft Sentinel, Defender XDR advanced hunting, or exported logs in an embedded database.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("entra-hunt")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
