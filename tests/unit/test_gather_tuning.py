"""The tuning of context gathering: every number in one ContextTuning, with today's values, and
handed to each stage (none reads a number of its own from a module global)."""

from __future__ import annotations

import ast
import asyncio
import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.context.documents import DocumentSnapshot, DocumentStore
from lsp_server.context.gather.pipeline import gather
from lsp_server.context.gather.recent import RecentChunks
from lsp_server.context.gather.tuning import ContextTuning
from lsp_server.context.index import WorkspaceIndex
from lsp_server.context.service import ContextService
from tests.unit.gather_helpers import TOML_CONV, TUNING, YAML_CONV, build_index, snapshot

PACKAGE = Path(__file__).resolve().parents[2] / "lsp_server" / "context" / "gather"
MODULES = sorted([*PACKAGE.glob("*.py"), PACKAGE.parent / "service.py"])
# Where a tuning may be left out (the default is used): the entry points, not the stages.
ENTRY_POINTS = {"gather", "__init__"}


def _is_number(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, int | float) and not isinstance(node.value, bool)
    if isinstance(node, ast.BinOp):
        return _is_number(node.left) and _is_number(node.right)
    return isinstance(node, ast.UnaryOp) and _is_number(node.operand)


def test_no_stage_keeps_a_number_of_its_own() -> None:
    """A module-level number outside tuning.py would be a tuning constant read from afar."""
    found: list[str] = []
    for path in MODULES:
        if path.name == "tuning.py":
            continue
        for node in ast.parse(path.read_text()).body:
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            if value is not None and _is_number(value):
                found.append(f"{path.name}:{node.lineno}")
    assert MODULES and not found


def test_only_the_entry_points_may_leave_the_tuning_out() -> None:
    """A stage with a default tuning could be called without the caller's and quietly use
    today's numbers instead."""
    defaulted: list[str] = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            args = node.args.args + node.args.kwonlyargs
            missing = len(node.args.args) - len(node.args.defaults)
            defaults: list[ast.expr | None] = [None] * missing
            defaults += [*node.args.defaults, *node.args.kw_defaults]
            for arg, default in zip(args, defaults, strict=True):
                if arg.arg == "tuning" and default is not None and node.name not in ENTRY_POINTS:
                    defaulted.append(f"{path.name}:{node.lineno} {node.name}")
    assert not defaulted


def test_the_defaults_are_the_measured_values() -> None:
    """Changing one changes the context: it comes with new figures in docs/context.md."""
    assert dataclasses.asdict(ContextTuning()) == {
        "chars_per_token": 3,
        "entry_overhead_chars": 16,
        "file_overhead_chars": 8,
        "near_lines": 10,
        "near_band": 8,
        "max_use_scan": 256 * 1024,
        "use_window_lines": 300,
        "max_far_names": 64,
        "max_far_definitions": 32,
        "frequent_uses": 4,
        "max_defs_per_name": 2,
        "ambiguous": 6,
        "base_depth": 3,
        "sibling_span": 2,
        "max_sibling_sources": 8,
        "rare_word": 3,
        "shared_word_divisor": 4,
        "max_shared_words": 2,
        "max_gap": 2,
        "chunk_lines": 32,
        "ring_size": 16,
        "duplicate_jaccard": 0.7,
        "min_shared_names": 2,
        "similar_lines": 12,
        "similar_step": 4,
        "similar_shown_before": 6,
        "min_similarity": 0.4,
        "min_query_words": 8,
        "max_similar_files": 16,
        "max_similar_bytes": 128 * 1024,
        "similar_cache_files": 64,
        "similar_share_part": 2,
        "reindex_delay_s": 0.5,
    }
    assert ContextTuning().imported_distance == 30
    assert ContextTuning().similar_shown_after == 12


LIB = "".join(f"def helper_{i}(value: int) -> int:\n    return value\n\n\n" for i in range(30))
USES = "".join(f"    helper_{i}(1)\n" for i in range(30))
MAIN = f"from lib import *\n\n\ndef run():\n{USES}    \n"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[WorkspaceIndex, DocumentSnapshot]:
    root = tmp_path_factory.mktemp("share")
    index = build_index(root, {"lib.py": LIB, "main.py": MAIN})
    return index, snapshot(root / "main.py", MAIN, "python")


@settings(max_examples=60, deadline=None)
@given(tokens=st.integers(0, 200), scale=st.integers(1, 4), row=st.integers(0, 34))
def test_the_share_is_counted_in_the_tuning_s_characters_per_token(
    workspace: tuple[WorkspaceIndex, DocumentSnapshot], tokens: int, scale: int, row: int
) -> None:
    """`tokens` at `scale` times the characters per token is `tokens * scale` at today's."""
    index, snap = workspace
    lines = MAIN.split("\n")
    offset = sum(len(line) + 1 for line in lines[:row]) + min(4, len(lines[row]))
    wide = dataclasses.replace(TUNING, chars_per_token=TUNING.chars_per_token * scale)
    scaled = gather(snap, offset, index, RecentChunks(wide), tokens, 60, tuning=wide)
    plain = gather(snap, offset, index, RecentChunks(), tokens * scale, 60)  # no deadline
    assert scaled.files == plain.files
    if tokens * scale >= 60:
        assert plain.files  # the workspace has context to give at this size


def service_for(root: Path, files: dict[str, str], tuning: ContextTuning) -> ContextService:
    build_index(root, files)
    service = ContextService(
        DocumentStore(), lambda: True, time_budget_ms=lambda: 1000, tuning=tuning
    )
    service.set_roots([str(root)])
    asyncio.run(service.index.build([root]))
    return service


def shown_paths(service: ContextService, root: Path, rel: str, text: str) -> list[str]:
    ctx = asyncio.run(service.gather(snapshot(root / rel, text, "python"), len(text) - 1, 384))
    return [p for p, _ in ctx.files]


def test_the_service_hands_its_tuning_to_every_stage(tmp_path: Path) -> None:
    """Through ContextService: the similar-code search, the choice of definitions and the
    ring buffer each follow the tuning it was given, not today's numbers."""
    strict = dataclasses.replace(TUNING, min_query_words=10**6, max_defs_per_name=1, ring_size=1)
    alike = {"toml.py": TOML_CONV, "yaml.py": YAML_CONV}
    assert shown_paths(
        service_for(tmp_path / "a", alike, TUNING), tmp_path / "a", "yaml.py", YAML_CONV
    )[-1:] == ["toml.py"]
    assert "toml.py" not in shown_paths(
        service_for(tmp_path / "b", alike, strict), tmp_path / "b", "yaml.py", YAML_CONV
    )

    main = "from geo import polygon_area\n\n\ndef size(c):\n    return polygon_area(c)\n"
    twins = {
        "x/geometry.py": "def polygon_area(points: list) -> float:\n    return 0.0\n",
        "y/geometry.py": "def polygon_area(pts) -> float:\n    return 0.0\n",
        "main.py": main,
    }
    both = shown_paths(service_for(tmp_path / "c", twins, TUNING), tmp_path / "c", "main.py", main)
    one = shown_paths(service_for(tmp_path / "d", twins, strict), tmp_path / "d", "main.py", main)
    assert sorted(both) == ["x/geometry.py", "y/geometry.py"] and len(one) == 1

    for tuning, kept in ((TUNING, 3), (strict, 1)):
        service = service_for(tmp_path / f"ring{kept}", {}, tuning)
        for name in ("p.py", "q.py", "r.py"):
            uri = (tmp_path / name).as_uri()
            service.documents.open(uri, "python", 1, f"{name[0]}_value = 1\n")
            service.on_focus(uri, 0)
        assert len(service.recent.chunks()) == kept
