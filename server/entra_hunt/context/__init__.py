"""Threat context served with hunt results: techniques, campaigns, references, actions.

:data:`CONTEXTS` names every context document, as the MCP resources serve them.
"""

from __future__ import annotations

from entra_hunt.context.campaign import BROKER_CHAIN, FIRST_USE, ONE_SOURCE, TOKEN_REPLAY
from entra_hunt.context.device_code import DEVICE_CODE_PHISHING
from entra_hunt.findings.models import ThreatContext

__all__ = ["CONTEXTS"]

#: Every threat context document, by a stable name.
CONTEXTS: dict[str, ThreatContext] = {
    "device-code-phishing": DEVICE_CODE_PHISHING,
    "broker-device-registration": BROKER_CHAIN,
    "one-source-many-victims": ONE_SOURCE,
    "device-code-token-replay": TOKEN_REPLAY,
    "first-device-code-use": FIRST_USE,
}
