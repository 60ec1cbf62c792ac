"""What the completer remembers between requests: recent suggestions (answered again without
the model while the user types through them) and prompt anchors (the prompt stays identical
while the user types, so the model's evaluated tokens are reused)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

# A typed run longer than this (or spanning more lines) starts a new anchor: the model should
# then see the new text as part of the window, not as the start of its own answer.
MAX_TYPED_CHARS = 400
MAX_TYPED_LINES = 8


@dataclass(frozen=True)
class Suggestion:
    uri: str
    prefix: str  # document text before the cursor when the suggestion was made
    suffix: str  # document text after the cursor
    text: str
    source: str  # "model" | "prefetch"


class SuggestionCache:
    """LRU of recent suggestions, keyed by the document state they were made for and their
    text (the alternatives of one request share a state)."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str, str, str], Suggestion] = OrderedDict()

    def add(self, suggestion: Suggestion) -> None:
        key = (suggestion.uri, suggestion.prefix, suggestion.suffix, suggestion.text)
        self._items[key] = suggestion
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def lookup(self, uri: str, prefix: str, suffix: str) -> tuple[str, Suggestion] | None:
        """The rest of a suggestion the user has typed part of (or none of) so far."""
        found = self.lookup_all(uri, prefix, suffix, 1)
        return found[0] if found else None

    def lookup_all(
        self, uri: str, prefix: str, suffix: str, most: int
    ) -> list[tuple[str, Suggestion]]:
        """Up to `most` distinct rests of suggestions typed through so far, the latest first."""
        found: list[tuple[str, Suggestion]] = []
        for key in reversed(self._items):
            item = self._items[key]
            if item.uri != uri or item.suffix != suffix or not prefix.startswith(item.prefix):
                continue
            typed = prefix[len(item.prefix) :]
            rest = item.text[len(typed) :]
            if item.text.startswith(typed) and rest and all(rest != r for r, _ in found):
                found.append((rest, item))
                if len(found) >= most:
                    break
        for _, item in reversed(found):  # the first found stays the latest
            self._items.move_to_end((item.uri, item.prefix, item.suffix, item.text))
        return found

    def forget(self, uri: str) -> None:
        for key in [k for k in self._items if k[0] == uri]:
            del self._items[key]


@dataclass(frozen=True)
class Anchor:
    prefix: str
    suffix: str
    extra_context: str
    # Repository context gathered when the anchor was set (context/gather/): kept with the
    # anchor so the prompt does not change while the user types.
    context_files: tuple[tuple[str, str], ...] = ()
    context_path: str = ""  # the file's path in its workspace folder
    repo: str = ""


class Anchors:
    """One prompt anchor per document."""

    def __init__(self) -> None:
        self._by_uri: dict[str, Anchor] = {}

    def typed_since(self, uri: str, prefix: str, suffix: str) -> tuple[Anchor, str] | None:
        anchor = self._by_uri.get(uri)
        if anchor is None or suffix != anchor.suffix or not prefix.startswith(anchor.prefix):
            return None
        typed = prefix[len(anchor.prefix) :]
        if len(typed) > MAX_TYPED_CHARS or typed.count("\n") > MAX_TYPED_LINES:
            return None
        return anchor, typed

    def set(self, uri: str, anchor: Anchor) -> None:
        self._by_uri[uri] = anchor

    def forget(self, uri: str) -> None:
        self._by_uri.pop(uri, None)

    def clear(self) -> None:
        self._by_uri.clear()
