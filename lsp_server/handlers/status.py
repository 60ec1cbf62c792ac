"""enclave/getStatus: the model's state, the last empty reason and recent generation figures
(what clients show in a status line, and what tests observe)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

STATUS_REQUEST = "enclave/getStatus"


def get_status(ls: EnclaveServer, params: Any = None) -> dict[str, Any]:
    session = ls.session
    info = session.model.info
    result: dict[str, Any] = {
        **asdict(session.status()),
        "modelInfo": asdict(info) if info else None,
        "recent": [asdict(s) for s in session.model.recent],
        "counters": asdict(session.completer.counters),
        "workerPid": session.model.pid,
    }
    if session.model.last_prompts:  # only filled with ENCLAVE_DEBUG_PROMPTS=1
        result["lastPrompts"] = [
            {
                "prompt": r.prompt,
                "text": r.text,
                "generated_tokens": r.stats.generated_tokens,
                "kind": r.stats.kind,
            }
            for r in session.model.last_prompts
        ]
    return result
