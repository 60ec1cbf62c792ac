"""The rewrites that must keep behaviour keep the error paths (features/error_paths.py): each
case is an answer a model gave or could give, through the same check the server runs."""

from __future__ import annotations

import pytest

from lsp_server.context.documents import Document
from lsp_server.features.edits import EditRejected
from lsp_server.features.error_paths import ANY, RERAISE, error_paths
from tests.unit.test_structure import check

# pygls' get_capability: the held-out refactor bench's two behaviour-changing answers.
GET = '''from functools import reduce


def get_capability(capabilities, field, default=None):
    """The nested capability, else `default`."""
    try:
        value = reduce(getattr, field.split("."), capabilities)
    except AttributeError:
        return default

    return value if value is not None else default
'''
PREFIX = GET[: GET.index("def")]
SIMPLIFIED = (  # the model's "Simplify": raises where the original returned the default
    "def get_capability(capabilities, field, default=None):\n"
    '    """The nested capability, else `default`."""\n'
    '    return reduce(getattr, field.split("."), capabilities) if reduce(getattr, '
    'field.split("."), capabilities) is not None else default'
)
IDIOMATIC = (  # the model's "Make idiomatic": hasattr on the dotted path
    "def get_capability(capabilities, field, default=None):\n"
    '    """The nested capability, else `default`."""\n'
    '    return reduce(lambda x, y: getattr(x, y), field.split("."), capabilities) '
    "if hasattr(capabilities, field) else default"
)
KEPT = (
    "def get_capability(capabilities, field, default=None):\n"
    '    """The nested capability, else `default`."""\n'
    "    try:\n"
    '        value = reduce(getattr, field.split("."), capabilities)\n'
    "    except AttributeError:\n"
    "        return default\n"
    "    return default if value is None else value"
)


@pytest.mark.parametrize("action", ["simplify", "idiomatic", "extract_function"])
@pytest.mark.parametrize("answer", [SIMPLIFIED, IDIOMATIC], ids=["simplified", "idiomatic"])
def test_a_rewrite_that_drops_a_handler_is_refused(action: str, answer: str) -> None:
    with pytest.raises(EditRejected, match="catches AttributeError, the rewrite no longer"):
        check("python", GET, answer, action, PREFIX)


def test_a_rewrite_that_keeps_the_handler_passes() -> None:
    check("python", GET, KEPT, "simplify", PREFIX)


def test_instructed_rewrites_and_fixes_may_change_error_handling() -> None:
    check("python", GET, SIMPLIFIED, "rewrite", PREFIX)


RAISES = """def parse(text):
    if not text:
        raise ValueError("empty")
    return int(text)
"""


def test_a_dropped_raise_is_refused_and_a_kept_one_passes() -> None:
    quiet = "def parse(text):\n    return int(text) if text else 0"
    with pytest.raises(EditRejected, match="raises ValueError"):
        check("python", RAISES, quiet, "simplify")
    kept = 'def parse(text):\n    if text:\n        return int(text)\n    raise ValueError("empty")'
    check("python", RAISES, kept, "idiomatic")


def test_extracting_a_function_may_move_the_handler_into_it() -> None:
    moved = (
        "def _lookup(capabilities, field):\n"
        "    try:\n"
        '        return reduce(getattr, field.split("."), capabilities)\n'
        "    except AttributeError:\n"
        "        return None\n\n\n"
        + KEPT.replace(
            "    try:\n"
            '        value = reduce(getattr, field.split("."), capabilities)\n'
            "    except AttributeError:\n"
            "        return default\n",
            "    value = _lookup(capabilities, field)\n",
        )
    )
    check("python", GET, moved, "extract_function", PREFIX)


def paths(language: str, text: str) -> set[str]:
    snap = Document("file:///w/f", language, 1, text).snapshot()
    assert snap.tree is not None
    return error_paths(snap.tree.root_node, range(0, len(text.encode())), language)


def test_what_counts_as_an_error_path_in_each_language() -> None:
    python = (
        "try:\n    f()\nexcept (KeyError, mod.Error) as e:\n    raise Wrapped('x') from e\n"
        "except OSError:\n    raise\nexcept:\n    pass\n"
    )
    assert paths("python", python) == {
        "catches KeyError",
        "catches mod.Error",
        "catches OSError",
        f"catches {ANY}",
        "raises Wrapped",
        f"raises {RERAISE}",
    }
    typescript = "try { f(); } catch (e) { throw new TypeError('x'); }\nfunction g() { throw err; }"
    assert paths("typescript", typescript) == {f"catches {ANY}", "raises TypeError", "raises err"}
    java = (
        "class A { void f() { try { g(); } catch (IOException | X e) "
        "{ throw new RuntimeException(e); } } }"
    )
    assert paths("java", java) == {"catches IOException", "catches X", "raises RuntimeException"}
    rust = "fn f() -> Result<i32, E> { let x = g()?; Ok(x) }"
    assert paths("rust", rust) == {"propagates errors with ?"}


TS = """export function load(s: string) {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}
"""


def test_a_typescript_rewrite_that_drops_its_catch_is_refused() -> None:
    bare = "export function load(s: string) {\n  return JSON.parse(s);\n}"
    with pytest.raises(EditRejected, match="catches any exception"):
        check("typescript", TS, bare, "simplify")
    short = TS.replace("\n    return null;\n  ", " return null; ").rstrip("\n")
    check("typescript", TS, short, "simplify")
