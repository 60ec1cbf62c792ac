"""Similar code: the window most like the lines above the cursor, and its cache."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from lsp_server.context.gather.names import band_of
from lsp_server.context.gather.pipeline import GatheredContext
from lsp_server.context.gather.recent import RecentChunks
from lsp_server.context.gather.similar import SimilarCode, find_similar, query_words
from tests.unit.gather_helpers import (
    TOML_CONV,
    TUNING,
    UNLIKE,
    YAML_CONV,
    build_index,
    gather_all,
    snapshot,
)


def test_code_like_the_lines_above_the_cursor_comes_last_with_what_follows_it(
    tmp_path: Path,
) -> None:
    files = {"toml.py": TOML_CONV, "yaml.py": YAML_CONV, "args.py": UNLIKE, "base.py": ""}
    index = build_index(tmp_path, files)
    snap = snapshot(tmp_path / "yaml.py", YAML_CONV, "python")
    offset = len(YAML_CONV) - 1
    ctx = gather_all(snap, offset, index, RecentChunks(), 384, similar=SimilarCode())
    path, text = ctx.files[-1]
    assert path == "toml.py"
    # What came after the like lines there: the line being written here.
    assert "    converter.register_unstructure_hook(date, identity)\n" in text
    assert "option_" not in "".join(c for _, c in ctx.files)
    assert len("".join(c for _, c in ctx.files)) <= 384 * 3
    # Without the cache object, as before: no such file.
    plain = gather_all(snap, offset, index, RecentChunks(), 384)
    assert all("register_unstructure_hook(date" not in c for _, c in plain.files)


def test_unlike_code_is_not_shown_and_too_few_words_ask_nothing(tmp_path: Path) -> None:
    build_index(tmp_path, {"toml.py": TOML_CONV, "args.py": UNLIKE})
    cache = SimilarCode()
    main = "def run(argv):\n" + "".join(f"    option_{i} = argv[{i}]\n" for i in range(16))
    main += "    \n"
    query = query_words(snapshot(tmp_path / "run.py", main, "python"), len(main) - 1, TUNING)
    assert "option_14" in query and "def" not in query  # the 12 lines above the band
    toml, args = [str(tmp_path / "toml.py")], [str(tmp_path / "args.py")]
    assert find_similar(query, toml, cache, time.monotonic() + 1) is None
    assert find_similar(frozenset({"option_1", "argv"}), args, cache, 1e12) is None
    found = find_similar(query, args, cache, time.monotonic() + 1)
    assert found is not None and found.similarity >= TUNING.min_similarity
    assert found.text.startswith("    option_") and found.path == args[0]


def test_similar_code_cache_follows_the_disk_is_bounded_and_never_reads_secrets(
    tmp_path: Path,
) -> None:
    cache = SimilarCode(dataclasses.replace(TUNING, similar_cache_files=2))
    a = tmp_path / "a.py"
    a.write_text("alpha = 1\n")
    got = cache.windows(str(a))
    assert got is not None and got[0] == ["alpha = 1", ""]
    a.write_text("beta = 2\ngamma = 3\n")
    got = cache.windows(str(a))
    assert got is not None and got[0][0] == "beta = 2"
    for name in ("b.py", "c.py"):
        (tmp_path / name).write_text("x = 1\n")
        assert cache.windows(str(tmp_path / name)) is not None
    assert len(cache._files) == 2 and str(a) not in cache._files
    secret = tmp_path / ".env"
    secret.write_text("TOKEN_VALUE = 'abc'\n")
    assert cache.windows(str(secret)) is None
    assert cache.windows(str(tmp_path / "missing.py")) is None


def test_similar_code_does_not_change_while_the_cursor_moves_within_a_band(
    tmp_path: Path,
) -> None:
    index = build_index(tmp_path, {"toml.py": TOML_CONV, "yaml.py": YAML_CONV})
    text = YAML_CONV.removesuffix("    \n") + "\n" * 7 + "    \n"
    snap = snapshot(tmp_path / "yaml.py", text, "python")
    lines = text.split("\n")
    cache = SimilarCode()

    def at_line(row: int) -> GatheredContext:
        offset = sum(len(line) + 1 for line in lines[:row]) + 4
        return gather_all(snap, offset, index, RecentChunks(), 384, similar=cache)

    assert band_of(snap, sum(len(x) + 1 for x in lines[:9]), TUNING) == 8
    assert at_line(9).files == at_line(12).files == at_line(15).files
    assert at_line(9).files[-1][0] == "toml.py"
