"""Similar code: the lines above the cursor's band are compared, as word sets, with windows of
as many lines in the files beside the current one (same folder, imported, recently edited);
the best window over `min_similarity` is shown with what follows it there: code that reads
like the code above the cursor often goes on like the line being written (RepoCoder's
sliding-window retrieval)."""

from __future__ import annotations

import os
import posixpath
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lsp_server.context.documents import DocumentSnapshot
from lsp_server.context.gather.names import WORD, band_of
from lsp_server.context.gather.tuning import DEFAULT_TUNING, ContextTuning
from lsp_server.context.index import FileEntry, WorkspaceIndex, is_secret


@dataclass(frozen=True)
class Snippet:
    path: str
    text: str
    similarity: float


# An open document's text and version, by path: what the user sees, saved or not.
OpenText = Callable[[str], tuple[int, str] | None]


class SimilarCode:
    """Files cut into windows of word sets, kept for the most recently searched files: an open
    document's text (checked against its version), else the file on disk (checked against its
    size and modification time). Its tuning cuts the windows, so searches read it too."""

    def __init__(self, tuning: ContextTuning = DEFAULT_TUNING) -> None:
        self.tuning = tuning
        self._lock = threading.Lock()  # searched in a thread, forgotten on the event loop
        self._files: OrderedDict[str, tuple[tuple[int, int], list[str], list[frozenset[str]]]]
        self._files = OrderedDict()

    def windows(
        self, path: str, opened: tuple[int, str] | None = None
    ) -> tuple[list[str], list[frozenset[str]]] | None:
        """(lines, word set per window) of `path`, or of its open document's (version, text)."""
        if is_secret(path):
            return None
        limit = self.tuning.max_similar_bytes
        if opened is not None:
            if len(opened[1]) > limit:
                return None
            stamp = (-1, opened[0])  # no file has a negative modification time
        else:
            try:
                st = os.stat(path)
            except OSError:
                return None
            if st.st_size > limit:
                return None
            stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            held = self._files.get(path)
            if held is not None and held[0] == stamp:
                self._files.move_to_end(path)
                return held[1], held[2]
        if opened is not None:
            lines = opened[1].split("\n")
        else:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    lines = f.read().split("\n")
            except OSError:
                return None
        words = [frozenset(WORD.findall(line)) for line in lines]
        size, step = self.tuning.similar_lines, self.tuning.similar_step
        sets = [
            frozenset().union(*words[i : i + size])
            for i in range(0, max(1, len(lines) - size + 1), step)
        ]
        with self._lock:
            self._files[path] = (stamp, lines, sets)
            while len(self._files) > self.tuning.similar_cache_files:
                self._files.popitem(last=False)
        return lines, sets

    def forget(self, path: str) -> None:
        with self._lock:
            self._files.pop(path, None)


def query_words(snap: DocumentSnapshot, offset: int, tuning: ContextTuning) -> frozenset[str]:
    """Words of the `similar_lines` lines above the cursor's band: they do not change while
    the user types in the band, so neither does the prompt's start."""
    band = band_of(snap, offset, tuning)
    first = max(0, band - tuning.similar_lines)
    return frozenset(w for i in range(first, band) for w in WORD.findall(snap.index.line_text(i)))


def similar_candidates(
    current: str,
    entry: FileEntry | None,
    index: WorkspaceIndex,
    also: Sequence[str],
    tuning: ContextTuning,
) -> list[str]:
    """Files of the current one's language beside it (same folder), then those it imports, then
    `also` (the recent chunks' files)."""
    folder = posixpath.dirname(current)
    language = entry.language if entry is not None else ""
    out = [p for p in index.in_folder(folder) if index.files[p].language == language]
    if entry is not None:
        out += sorted(p for p in index.linked(entry).files if p in index.files)
    out += also
    return [p for p in dict.fromkeys(out) if p != current][: tuning.max_similar_files]


def find_similar(
    query: frozenset[str],
    paths: Sequence[str],
    cache: SimilarCode,
    deadline: float,
    open_text: OpenText | None = None,
) -> Snippet | None:
    """The window most like `query` among `paths` (at least `min_similarity`), shown as its
    last `similar_shown_before` lines and the `similar_shown_after` lines after it (the
    cache's tuning). Open documents are read through `open_text`."""
    tuning = cache.tuning
    if len(query) < tuning.min_query_words:
        return None
    best: tuple[float, str, list[str], int] | None = None  # score, path, lines, window start
    for path in paths:
        if time.monotonic() > deadline:
            break
        got = cache.windows(path, open_text(path) if open_text is not None else None)
        if got is None:
            continue
        for n, words in enumerate(got[1]):
            union = len(query | words)
            score = len(query & words) / union if union else 0.0
            if score >= tuning.min_similarity and (best is None or score > best[0]):
                best = (score, path, got[0], n * tuning.similar_step)
    if best is None:
        return None
    score, path, lines, start = best
    end = start + tuning.similar_lines  # the line after the matched window
    shown = lines[end - tuning.similar_shown_before : end + tuning.similar_shown_after]
    text = "\n".join(shown).strip("\n")
    return Snippet(path, text, score) if text.strip() else None


def similar_to_cursor(
    snap: DocumentSnapshot,
    offset: int,
    current: str,
    entry: FileEntry | None,
    index: WorkspaceIndex,
    also: Sequence[str],
    cache: SimilarCode,
    deadline: float,
    open_text: OpenText | None,
) -> Snippet | None:
    """The code most like the lines above the cursor, among the candidate files (see
    similar_candidates; `also`: the recent chunks' files)."""
    tuning = cache.tuning
    paths = similar_candidates(current, entry, index, also, tuning)
    return find_similar(query_words(snap, offset, tuning), paths, cache, deadline, open_text)
