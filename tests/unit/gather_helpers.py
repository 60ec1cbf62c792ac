"""Shared by the tests of context gathering (tests/unit/test_gather_*.py): small workspaces,
snapshots, and sources written alike."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsp_server.context.documents import Document, DocumentSnapshot
from lsp_server.context.gather.pipeline import GatheredContext, gather
from lsp_server.context.gather.recent import RecentChunks
from lsp_server.context.gather.similar import SimilarCode
from lsp_server.context.gather.tuning import DEFAULT_TUNING
from lsp_server.context.index import WorkspaceIndex

TUNING = DEFAULT_TUNING

LIB = '''"""Geometry."""


def polygon_area(points: list[tuple[float, float]]) -> float:
    """Area of a simple polygon (shoelace formula)."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1]):
        total += x1 * y2 - x2 * y1
        total += 0
        total += 0
    return abs(total) / 2


def unrelated_helper(x: int) -> int:
    """Never used by main."""
    return x
'''

MAIN = (
    """from geometry import polygon_area


def field_size(corners):
    area = polygon_area(corners)
    return """
    + " \n"
)


def build_index(tmp_path: Path, files: dict[str, str]) -> WorkspaceIndex:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    index = WorkspaceIndex()
    asyncio.run(index.build([tmp_path]))
    return index


def snapshot(path: Path, text: str, language: str) -> DocumentSnapshot:
    return Document(path.as_uri(), language, 1, text).snapshot()


def gather_all(
    snap: DocumentSnapshot,
    offset: int,
    index: WorkspaceIndex,
    recent: RecentChunks,
    budget_tokens: int,
    similar: SimilarCode | None = None,
) -> GatheredContext:
    """`gather` with time to finish: these tests are about what is gathered, on any machine
    however busy (the time budget has a test of its own)."""
    return gather(snap, offset, index, recent, budget_tokens, 60.0, similar)


# Two converters written alike (as cattrs' preconf modules are) and one unlike them.
CONV_HOOKS = [
    "converter.register_structure_hook(bytes, lambda v, _: bytes(v))",
    "converter.register_unstructure_hook(bytes, bytes.hex)",
    "converter.register_structure_hook(datetime, lambda v, _: datetime.fromisoformat(v))",
    "converter.register_unstructure_hook(datetime, lambda v: v.isoformat())",
    "converter.register_structure_hook(date, lambda v, _: date.fromisoformat(v))",
    "converter.register_unstructure_hook(date, identity)",
    "configure_union_passthrough(Union[str, int, float, bool], converter)",
]


def converter_module(name: str, hooks: list[str]) -> str:
    head = "from .base import Converter, identity\n\n\n"
    head += f"def configure_{name}(converter: Converter) -> None:\n"
    return head + "".join(f"    {h}\n" for h in hooks)


TOML_CONV = converter_module("toml", CONV_HOOKS)
YAML_CONV = converter_module("yaml", CONV_HOOKS[:5]) + "    \n"
UNLIKE = "def parse_args(argv):\n" + "".join(f"    option_{i} = argv[{i}]\n" for i in range(30))
