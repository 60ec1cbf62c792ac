"""The `enclave` command: serve, model fetch/verify/info, complete, stats."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from lsp_server import __version__, log
from lsp_server.errors import EnclaveError

DISTRIBUTION = "enclave-lsp"  # the package's name on the index ("enclave" is another project)


def _serve(args: argparse.Namespace) -> int:
    from lsp_server.server import build_server

    log.configure(args.log_level)
    server = build_server()
    if args.tcp:
        host, _, port = args.tcp.rpartition(":")
        server.start_tcp(host or "127.0.0.1", int(port))
    else:
        server.start_io()
    return 0


def _model(args: argparse.Namespace) -> int:
    from lsp_server.model import provision

    spec = provision.MODELS[args.size]
    if args.action == "fetch":
        path = provision.fetch(spec, progress=True)
        print(f"model ready: {path}")
    elif args.action == "verify":
        path = Path(args.path) if args.path else provision.model_path(spec)
        result = provision.verify(path, None if args.path else spec)
        print(result.message)
        return 0 if result.ok else 1
    else:
        path = Path(args.path) if args.path else provision.model_path(spec)
        print(json.dumps(provision.info(path), indent=2, default=str))
    return 0


def _complete(args: argparse.Namespace) -> int:
    from lsp_server.client import complete_at

    file, line, col = _parse_location(args.location)
    settings: dict[str, Any] = {"model": {"size": args.size}}
    if args.model:
        settings["model"]["path"] = args.model
    text = asyncio.run(complete_at(file, line, col, settings, args.timeout))
    print(text)
    return 0


def _parse_location(location: str) -> tuple[Path, int, int]:
    try:
        file, line, col = location.rsplit(":", 2)
        return Path(file), int(line), int(col)
    except ValueError:
        raise SystemExit(f"expected FILE:LINE:COL (1-based), got {location!r}") from None


def _stats(args: argparse.Namespace) -> int:
    from lsp_server import stats

    path = stats.default_path()
    try:
        table = stats.read_file(path)
    except (OSError, stats.CorruptStats) as exc:
        print(f"enclave: statistics file {path} not read ({exc})", file=sys.stderr)
        table = {}
    summaries = stats.summaries(table)
    if args.json:
        print(json.dumps({"file": str(path), "languages": summaries}, indent=2))
        return 0
    print(f"Local statistics (this machine only, never sent anywhere): {path}")
    if not summaries:
        print("  nothing recorded yet")
    for language, s in summaries.items():
        print(f"  {language}:")
        for line in stats.describe(s):
            print(f"    {line}")
    return 0


def _schema(args: argparse.Namespace) -> int:
    from lsp_server.settings import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="enclave", description=__doc__)
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} ({DISTRIBUTION})"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP, for debugging")
    serve.add_argument("--stdio", action="store_true", help="use stdio (the default)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(run=_serve)

    model = sub.add_parser("model", help="provision and inspect the local model")
    model.add_argument("action", choices=["fetch", "verify", "info"])
    model.add_argument("--size", choices=["1.5b", "0.5b"], default="1.5b")
    model.add_argument("--path", help="a GGUF file (verify/info); default: the bundled model")
    model.set_defaults(run=_model)

    complete = sub.add_parser(
        "complete", help="print the inline completion at FILE:LINE:COL (1-based)"
    )
    complete.add_argument("location", metavar="FILE:LINE:COL")
    complete.add_argument("--size", choices=["1.5b", "0.5b"], default="1.5b")
    complete.add_argument("--model", help="path to another GGUF model")
    complete.add_argument("--timeout", type=float, default=300.0, help="seconds to wait")
    complete.set_defaults(run=_complete)

    stats = sub.add_parser("stats", help="print the local completion statistics per language")
    stats.add_argument("--json", action="store_true", help="as JSON")
    stats.set_defaults(run=_stats)

    schema = sub.add_parser("settings-schema", help="print the JSON schema of the settings")
    schema.set_defaults(run=_schema)

    # VS Code's client appends --stdio after the server's own arguments.
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(raw)
    try:
        code = args.run(args)
    except EnclaveError as exc:
        print(f"enclave: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)
