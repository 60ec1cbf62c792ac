"""enclave/getStatus: the model's state, the last empty reason and recent generation figures
(what clients show in a status line, and what tests observe)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.handlers.lsp import field_of

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

STATUS_REQUEST = "enclave/getStatus"


def get_status(ls: EnclaveServer, params: Any = None) -> dict[str, Any]:
    """With {"after": job id}, "recent" and "lastPrompts" hold only the jobs after it: a client
    polling while the model works (the typing benchmark) then costs the server and itself a
    few entries per poll instead of the last 50 prompts each time."""
    raw = field_of(params, "after")
    if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int)):
        raise JsonRpcInvalidParams("enclave/getStatus: 'after' must be a job id (an integer)")
    after = -1 if raw is None else raw
    session = ls.session
    info = session.model.info
    result: dict[str, Any] = {
        **asdict(session.status()),
        "modelInfo": asdict(info) if info else None,
        "recent": [asdict(s) for s in session.model.recent if s.job_id > after],
        "counters": asdict(session.completer.counters),
        "workerPid": session.model.pid,
        "index": session.context.stats(),
        "stats": session.stats.report(),  # this session and all time, per language
    }
    if session.model.last_prompts:  # only filled with ENCLAVE_DEBUG_PROMPTS=1
        result["lastPrompts"] = [
            {
                "prompt": r.prompt,
                "text": r.text,
                "generated_tokens": r.stats.generated_tokens,
                "max_tokens": r.stats.max_tokens,
                "stop_reason": r.stats.stop_reason,
                "kind": r.stats.kind,
                "job_id": r.stats.job_id,
            }
            for r in session.model.last_prompts
            if r.stats.job_id > after
        ]
    return result


DOCUMENT_STATE_REQUEST = "enclave/documentState"


def document_state(ls: EnclaveServer, params: Any = None) -> dict[str, Any]:
    """The server's copy of a document, as a hash: clients and tests check that it matches
    their own copy."""
    uri = field_of(params, "uri")
    if not isinstance(uri, str):
        raise JsonRpcInvalidParams("enclave/documentState needs {uri}")
    doc = ls.session.documents.get(uri)
    return {
        "version": doc.version,
        "sha256": hashlib.sha256(doc.text.encode("utf-8")).hexdigest(),
        "length": len(doc.text),
        "desynced": doc.desynced,
    }
