"""workspace/executeCommand: enclave.lsp.explain, .rewrite, .refactor, .review, .accepted.
Adapters only:
the policy is in the session's actions (lsp_server/actions.py).

The server's commands live under "enclave.lsp." so that they never collide with a client's own
commands (VS Code registers every advertised command; the extension has its own "enclave.*")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from lsp_server.actions import MODEL_EDITS, ActionRequest, Applied
from lsp_server.handlers.lsp import MAX_UINTEGER, action_request, range_in

if TYPE_CHECKING:
    from lsp_server.server import EnclaveServer

EXPLAIN = "enclave.lsp.explain"
REWRITE = "enclave.lsp.rewrite"
REFACTOR = "enclave.lsp.refactor"
REVIEW = "enclave.lsp.review"
ACCEPTED = "enclave.lsp.accepted"
# The actions a client calls by name (editor configurations are checked against this list);
# ACCEPTED comes with each completion item instead.
COMMANDS = (EXPLAIN, REWRITE, REFACTOR, REVIEW)


def _argument(arguments: Sequence[Any]) -> dict[str, Any]:
    if len(arguments) != 1 or not isinstance(arguments[0], dict):
        raise JsonRpcInvalidParams("expected one object argument")
    arg: dict[str, Any] = arguments[0]
    if not isinstance(arg.get("uri"), str):
        raise JsonRpcInvalidParams("the argument needs a 'uri'")
    return arg


def _answer(applied: Applied) -> dict[str, Any]:
    return {"applied": applied.applied, "message": applied.message}


async def explain(ls: EnclaveServer, *arguments: Any) -> dict[str, Any]:
    arg = _argument(arguments)
    session = ls.session
    rng = range_in(session.documents.get(arg["uri"]), arg.get("range"))
    result = await session.actions.explain(arg["uri"], rng)
    return {"markdown": result.markdown, "path": result.path}


async def rewrite(ls: EnclaveServer, *arguments: Any) -> dict[str, Any]:
    arg = _argument(arguments)
    instruction = arg.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        return {"applied": False, "message": f"{REWRITE} needs an 'instruction'"}
    rng = range_in(ls.session.documents.get(arg["uri"]), arg.get("range"))
    request = ActionRequest("rewrite", arg["uri"], rng, instruction=instruction)
    return _answer(await ls.session.actions.run_action(request))


async def refactor(ls: EnclaveServer, *arguments: Any) -> dict[str, Any]:
    """A refactor or fix code action as a command, for clients that cannot resolve a code
    action's edit (codeAction/resolve): the server computes the edit and applies it."""
    arg = _argument(arguments)
    if arg.get("enclave") not in MODEL_EDITS:
        raise JsonRpcInvalidParams(f"{REFACTOR}: unknown action {arg.get('enclave')!r}")
    request = action_request(ls.session.documents.get(arg["uri"]), arg)
    return _answer(await ls.session.actions.run_action(request))


async def review(ls: EnclaveServer, *arguments: Any) -> dict[str, Any]:
    arg = _argument(arguments)
    session = ls.session
    doc = session.documents.get(arg["uri"])
    rng = range_in(doc, arg["range"]) if arg.get("range") is not None else None
    result = await session.actions.review(arg["uri"], rng)
    return {"findings": result.findings, "dropped": result.dropped}


def accepted_command(suggestion_id: str, uri: str) -> types.Command:
    """The command a completion item carries: the client runs it when the user accepts it."""
    arg = {"id": suggestion_id, "uri": uri}
    return types.Command(title="Enclave: suggestion accepted", command=ACCEPTED, arguments=[arg])


async def accepted(ls: EnclaveServer, *arguments: Any) -> dict[str, Any]:
    """{"id", "uri"} from the item's command, and optionally "acceptedChars": the characters
    accepted so far when the user took only part of it (a word, a line)."""
    arg = _argument(arguments)
    ident, chars = arg.get("id"), arg.get("acceptedChars")
    if not isinstance(ident, str):
        raise JsonRpcInvalidParams(f"{ACCEPTED}: the argument needs the suggestion's 'id'")
    if chars is not None and (
        isinstance(chars, bool) or not isinstance(chars, int) or not 0 < chars <= MAX_UINTEGER
    ):
        raise JsonRpcInvalidParams(f"{ACCEPTED}: 'acceptedChars' must be a positive integer")
    return {"acceptedChars": ls.session.accepted(ident, arg["uri"], chars)}
