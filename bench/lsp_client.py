"""The benches' LSP client: one `enclave serve` over stdio, driven by a real pygls client as an
editor would drive it (initialize with a workspace folder, poll `enclave/getStatus`, shut down).

Used by bench/quality.py and bench/actions.py; each adds its own requests on top."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient


def plain(obj: Any) -> Any:
    """A pygls/lsprotocol value as plain JSON-like data (dicts, lists, scalars)."""
    if hasattr(obj, "_asdict"):
        return plain(obj._asdict())
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [plain(v) for v in obj]
    if hasattr(obj, "__dict__") and not isinstance(obj, type):
        return {k: plain(v) for k, v in vars(obj).items()}
    return obj


class BenchServer:
    """One `enclave serve` over stdio with `root` as the workspace folder."""

    def __init__(
        self,
        root: Path,
        options: dict[str, Any],
        *,
        name: str = "enclave-bench",
        capabilities: types.ClientCapabilities | None = None,
        wait_for_index: bool = True,
    ) -> None:
        self.root = root
        self.options = options  # initializationOptions
        self.capabilities = capabilities or types.ClientCapabilities()
        self.wait_for_index = wait_for_index
        self.client = LanguageClient(name, "0")
        self.version = 0
        self.last_job = 0  # the newest model job seen: a task reads only the jobs after it

        @self.client.feature("enclave/status")  # type: ignore[untyped-decorator]
        def _on_status(params: Any) -> None:
            pass

    async def status(self, after: int | None = None) -> dict[str, Any]:
        params = {} if after is None else {"after": after}
        result = await self.client.protocol.send_request_async("enclave/getStatus", params)
        return plain(result) or {}

    async def new_jobs(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The `recent` stats and `lastPrompts` of the jobs since the previous call."""
        status = await self.status(after=self.last_job)
        recent: list[dict[str, Any]] = status.get("recent") or []
        prompts: list[dict[str, Any]] = status.get("lastPrompts") or []
        self.last_job = max([self.last_job, *(int(r["job_id"]) for r in recent)])
        return recent, prompts

    async def start(self) -> types.ServerCapabilities:
        """Start, initialize and wait until the model is ready (and the index built, unless
        told not to). Returns the server's capabilities."""
        env = {**os.environ, "ENCLAVE_DEBUG_PROMPTS": "1"}
        await self.client.start_io(
            sys.executable, "-m", "lsp_server", "serve", "--log-level", "warning", env=env
        )
        uri = self.root.as_uri()
        result = await self.client.initialize_async(
            types.InitializeParams(
                capabilities=self.capabilities,
                initialization_options=self.options,
                root_uri=uri,
                workspace_folders=[types.WorkspaceFolder(uri, self.root.name)],
            )
        )
        self.client.initialized(types.InitializedParams())
        deadline = time.monotonic() + 600
        while True:
            st = await self.status()
            index = st.get("index") or {}
            indexed = not self.wait_for_index or (index.get("files") and not index.get("building"))
            if st.get("state") == "ready" and indexed:
                break
            if st.get("state") == "error" or time.monotonic() > deadline:
                raise RuntimeError(f"server not ready: {st.get('message')} {index}")
            await asyncio.sleep(0.5)
        return result.capabilities

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.client.shutdown_async(None), 30)
            self.client.exit(None)
        finally:
            await self.client.stop()  # type: ignore[no-untyped-call]
