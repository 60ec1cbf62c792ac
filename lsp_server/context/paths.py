"""File paths of document URIs, as the workspace index and the context keep them."""

from __future__ import annotations

from urllib.parse import unquote, urlparse


def path_of(uri: str) -> str:
    """The file path of a `file://` URI (percent-decoded); anything else as it is."""
    return unquote(urlparse(uri).path) if "://" in uri else uri
