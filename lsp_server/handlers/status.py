"""enclave/getStatus: the model's state, the last empty reason and recent generation figures
(what clients show in a status line, and what tests observe)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

STATUS_REQUEST = "enclave/getStatus"


def get_status(ls: EnclaveServer, params: Any) -> dict[str, Any]:
    session = ls.session
    info = session.model.info
    return {
        **asdict(session.status()),
        "modelInfo": asdict(info) if info else None,
        "recent": [asdict(s) for s in session.model.recent],
    }
