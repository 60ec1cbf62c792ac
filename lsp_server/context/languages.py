"""Per-language data: tree-sitter grammars and the node type tables syntax.py works from."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

import tree_sitter
import tree_sitter_bash
import tree_sitter_c
import tree_sitter_cpp
import tree_sitter_go
import tree_sitter_java
import tree_sitter_javascript
import tree_sitter_lua
import tree_sitter_python
import tree_sitter_rust
import tree_sitter_typescript

# A parse slower than this is abandoned; the document then simply has no tree.
PARSE_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class LanguageInfo:
    name: str
    language: tree_sitter.Language
    comment_prefix: str
    # Block structure comes from indentation (python) rather than tokens.
    indent_based: bool
    definition_types: frozenset[str]
    string_types: frozenset[str]
    # Code inside a string (f-string / template substitutions).
    string_code_types: frozenset[str]
    comment_types: frozenset[str]
    import_types: frozenset[str]
    # Only keep import nodes whose text contains this (lua: require calls).
    import_marker: str | None
    # Parents whose first statement string is a docstring (python).
    docstring_parents: frozenset[str]
    # Last token of a line that opens a block (":" / "{" / "then" ...).
    block_opener_suffixes: tuple[str, ...]
    # Tokens that open / close a block, for truncating multi-line completions.
    block_open_tokens: frozenset[str]
    block_close_tokens: frozenset[str]
    # Statements that mean "this body is still empty".
    empty_body_statements: frozenset[str]


_C_LIKE_OPEN = frozenset({"{"})
_C_LIKE_CLOSE = frozenset({"}"})


def _spec(
    comment_prefix: str,
    *,
    definitions: set[str],
    strings: set[str],
    comments: set[str],
    imports: set[str],
    string_code: set[str] | None = None,
    import_marker: str | None = None,
    docstring_parents: set[str] | None = None,
    openers: tuple[str, ...] = ("{",),
    open_tokens: frozenset[str] = _C_LIKE_OPEN,
    close_tokens: frozenset[str] = _C_LIKE_CLOSE,
    indent_based: bool = False,
    empty_body: set[str] | None = None,
) -> Callable[[str, tree_sitter.Language], LanguageInfo]:
    def build(key: str, language: tree_sitter.Language) -> LanguageInfo:
        return LanguageInfo(
            name=key,
            language=language,
            comment_prefix=comment_prefix,
            indent_based=indent_based,
            definition_types=frozenset(definitions),
            string_types=frozenset(strings),
            string_code_types=frozenset(string_code or set()),
            comment_types=frozenset(comments),
            import_types=frozenset(imports),
            import_marker=import_marker,
            docstring_parents=frozenset(docstring_parents or set()),
            block_opener_suffixes=openers,
            block_open_tokens=open_tokens,
            block_close_tokens=close_tokens,
            empty_body_statements=frozenset(empty_body or set()),
        )

    return build


_JS_DEFS = {
    "function_declaration",
    "generator_function_declaration",
    "function_expression",
    "arrow_function",
    "class_declaration",
    "class",
    "method_definition",
}
_JS_STRINGS = {"string", "template_string", "regex"}
_C_DEFS = {"function_definition", "struct_specifier", "union_specifier", "enum_specifier"}
_C_STRINGS = {"string_literal", "char_literal", "raw_string_literal", "system_lib_string"}

_SPECS: dict[str, Callable[[str, tree_sitter.Language], LanguageInfo]] = {
    "python": _spec(
        "#",
        definitions={"function_definition", "class_definition"},
        strings={"string"},
        string_code={"interpolation"},
        comments={"comment"},
        imports={"import_statement", "import_from_statement", "future_import_statement"},
        docstring_parents={"function_definition", "class_definition"},
        openers=(":",),
        open_tokens=frozenset(),
        close_tokens=frozenset(),
        indent_based=True,
        empty_body={"pass", "..."},
    ),
    "javascript": _spec(
        "//",
        definitions=_JS_DEFS,
        strings=_JS_STRINGS,
        string_code={"template_substitution"},
        comments={"comment"},
        imports={"import_statement"},
    ),
    "typescript": _spec(
        "//",
        definitions=_JS_DEFS
        | {
            "abstract_class_declaration",
            "interface_declaration",
            "enum_declaration",
            "internal_module",
            "module",
        },
        strings=_JS_STRINGS,
        string_code={"template_substitution"},
        comments={"comment"},
        imports={"import_statement"},
    ),
    "go": _spec(
        "//",
        definitions={"function_declaration", "method_declaration", "type_declaration"},
        strings={"interpreted_string_literal", "raw_string_literal", "rune_literal"},
        comments={"comment"},
        imports={"import_declaration"},
    ),
    "rust": _spec(
        "//",
        definitions={
            "function_item",
            "impl_item",
            "trait_item",
            "struct_item",
            "enum_item",
            "mod_item",
        },
        strings={"string_literal", "raw_string_literal", "char_literal"},
        comments={"line_comment", "block_comment"},
        imports={"use_declaration"},
    ),
    "java": _spec(
        "//",
        definitions={
            "class_declaration",
            "interface_declaration",
            "enum_declaration",
            "record_declaration",
            "method_declaration",
            "constructor_declaration",
        },
        strings={"string_literal", "character_literal", "text_block"},
        comments={"line_comment", "block_comment"},
        imports={"import_declaration"},
    ),
    "c": _spec(
        "//",
        definitions=_C_DEFS,
        strings=_C_STRINGS,
        comments={"comment"},
        imports={"preproc_include"},
    ),
    "cpp": _spec(
        "//",
        definitions=_C_DEFS | {"class_specifier", "namespace_definition"},
        strings=_C_STRINGS,
        comments={"comment"},
        imports={"preproc_include"},
    ),
    "lua": _spec(
        "--",
        definitions={"function_declaration", "function_definition"},
        strings={"string"},
        comments={"comment"},
        imports={"variable_declaration", "function_call"},
        import_marker="require",
        openers=("then", "do", ")", "else", "repeat", "{"),
        open_tokens=frozenset({"function", "do", "if", "repeat", "{"}),
        close_tokens=frozenset({"end", "until", "}"}),
    ),
    "bash": _spec(
        "#",
        definitions={"function_definition"},
        strings={"string", "raw_string", "ansi_c_string", "heredoc_body"},
        string_code={"command_substitution", "expansion", "simple_expansion"},
        comments={"comment"},
        imports=set(),
        openers=("then", "do", "else", "{"),
        open_tokens=frozenset({"if", "case", "do", "{"}),
        close_tokens=frozenset({"fi", "esac", "done", "}"}),
    ),
}

_GRAMMARS: dict[str, Callable[[], object]] = {
    "python": tree_sitter_python.language,
    "javascript": tree_sitter_javascript.language,
    "typescript": tree_sitter_typescript.language_typescript,
    "tsx": tree_sitter_typescript.language_tsx,
    "go": tree_sitter_go.language,
    "rust": tree_sitter_rust.language,
    "java": tree_sitter_java.language,
    "c": tree_sitter_c.language,
    "cpp": tree_sitter_cpp.language,
    "lua": tree_sitter_lua.language,
    "bash": tree_sitter_bash.language,
}

# LSP languageId -> grammar key
_LANGUAGE_IDS: dict[str, str] = {
    "python": "python",
    "javascript": "javascript",
    "javascriptreact": "javascript",
    "typescript": "typescript",
    "typescriptreact": "tsx",
    "go": "go",
    "rust": "rust",
    "java": "java",
    "c": "c",
    "cpp": "cpp",
    "lua": "lua",
    "shellscript": "bash",
    "sh": "bash",
    "bash": "bash",
}

_EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".lua": "lua",
    ".sh": "bash",
    ".bash": "bash",
}


@cache
def _info(key: str) -> LanguageInfo:
    language = tree_sitter.Language(_GRAMMARS[key]())
    # TSX shares the typescript tables; only the grammar differs.
    return _SPECS["typescript" if key == "tsx" else key](key, language)


def _extension(uri: str) -> str:
    path = unquote(urlparse(uri).path) if "://" in uri else uri
    return PurePosixPath(path).suffix.lower()


def language_for(language_id: str, uri: str = "") -> LanguageInfo | None:
    """The language for an LSP languageId, else for the URI's file extension, else None."""
    key = _LANGUAGE_IDS.get(language_id.lower())
    if key is None and uri:
        key = _EXTENSIONS.get(_extension(uri))
    if key is None:
        return None
    return _info(key)


def lsp_language_id(uri: str) -> str:
    """The LSP languageId an editor would send for this file ("plaintext" if unknown)."""
    key = _EXTENSIONS.get(_extension(uri))
    if key is None:
        return "plaintext"
    return {"tsx": "typescriptreact", "bash": "shellscript"}.get(key, key)


def new_parser(info: LanguageInfo) -> tree_sitter.Parser:
    return tree_sitter.Parser(info.language)


def parse(
    parser: tree_sitter.Parser,
    source: bytes,
    old_tree: tree_sitter.Tree | None = None,
    timeout: float = PARSE_TIMEOUT_SECONDS,
) -> tree_sitter.Tree:
    """Parse with a deadline. Raises ValueError when the parse fails or runs out of time."""
    deadline = time.monotonic() + timeout

    def read(byte: int, _point: tree_sitter.Point) -> bytes:
        return source[byte : byte + 65536]

    def progress(_offset: int, _has_error: bool) -> bool:
        return time.monotonic() > deadline

    if old_tree is None:
        return parser.parse(read, progress_callback=progress)
    return parser.parse(read, old_tree, progress_callback=progress)
