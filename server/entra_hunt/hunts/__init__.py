"""The hunt catalogue: every vetted hunt, by id.

Adding a hunt means adding a module here and one line to :data:`CATALOGUE`; nothing above
this package changes.
"""

from __future__ import annotations

from entra_hunt.errors import ParameterError
from entra_hunt.hunts.base import Hunt, RenderedQuery, TableSupport
from entra_hunt.hunts.broker_chain import BrokerChainHunt, BrokerChainParameters
from entra_hunt.hunts.device_code import DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.hunts.first_use import FirstUseHunt, FirstUseParameters
from entra_hunt.hunts.one_source import GroupBy, OneSourceHunt, OneSourceParameters
from entra_hunt.hunts.params import BackendName, HuntParameters, RiskFloor
from entra_hunt.hunts.token_replay import TokenReplayHunt, TokenReplayParameters

__all__ = [
    "CATALOGUE",
    "BackendName",
    "BrokerChainHunt",
    "BrokerChainParameters",
    "DeviceCodeHunt",
    "DeviceCodeParameters",
    "FirstUseHunt",
    "FirstUseParameters",
    "GroupBy",
    "Hunt",
    "HuntParameters",
    "OneSourceHunt",
    "OneSourceParameters",
    "RenderedQuery",
    "RiskFloor",
    "TableSupport",
    "TokenReplayHunt",
    "TokenReplayParameters",
    "get_hunt",
]

CATALOGUE: dict[str, Hunt] = {
    hunt.id: hunt
    for hunt in (
        DeviceCodeHunt(),
        BrokerChainHunt(),
        OneSourceHunt(),
        TokenReplayHunt(),
        FirstUseHunt(),
    )
}


def get_hunt(hunt_id: str) -> Hunt:
    """The catalogue hunt ``hunt_id``, or a ParameterError listing the known ids."""
    try:
        return CATALOGUE[hunt_id]
    except KeyError:
        raise ParameterError(
            f"no hunt {hunt_id[:80]!r}",
            where="hunt_id",
            fix=f"Use one of: {', '.join(sorted(CATALOGUE))} (list_hunts describes each)",
        ) from None
