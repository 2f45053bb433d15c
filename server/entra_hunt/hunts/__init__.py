"""The hunt catalogue: every vetted hunt, by id.

Adding a hunt means adding a module here and one line to :data:`CATALOGUE`; nothing above
this package changes.
"""

from __future__ import annotations

from entra_hunt.errors import ParameterError
from entra_hunt.hunts.base import Hunt, RenderedQuery
from entra_hunt.hunts.device_code import DeviceCodeHunt, DeviceCodeParameters
from entra_hunt.hunts.params import BackendName, HuntParameters, RiskFloor

__all__ = [
    "CATALOGUE",
    "BackendName",
    "DeviceCodeHunt",
    "DeviceCodeParameters",
    "Hunt",
    "HuntParameters",
    "RenderedQuery",
    "RiskFloor",
    "get_hunt",
]

CATALOGUE: dict[str, Hunt] = {hunt.id: hunt for hunt in (DeviceCodeHunt(),)}


def get_hunt(hunt_id: str) -> Hunt:
    """The catalogue hunt ``hunt_id``, or a ParameterError listing the known ids."""
    try:
        return CATALOGUE[hunt_id]
    except KeyError:
        raise ParameterError(
            f"no hunt {hunt_id!r}",
            where="hunt_id",
            fix=f"Use one of: {', '.join(sorted(CATALOGUE))}",
        ) from None
