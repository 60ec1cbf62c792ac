""" "Add docstring" writes only the documentation: the answer is begun for the model (the code
fence, the definition's header for Python, the comment's opener elsewhere) and it writes the
text of the comment, which the server places itself. The model no longer copies the whole
definition back (most of the answer's tokens) nor gets the chance to change it; the structural
check (features/structure.py) still runs on the result.

Where no slot applies (a docstring to refresh, a body on the header's line, a language without
a documentation style here) the refactor asks for the whole definition as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsp_server.features.edits import Target, char_offset, node_name, unwrapped, whole_definition
from lsp_server.features.structure import is_docstring
from lsp_server.prompts.actions import ChatPrompt, indentation

MAX_TOKENS = 192
PYTHON_QUOTES = '"""'
# Comments above the definition: (opener, the prefix of each further line, closer).
BLOCK_STYLES = {
    "typescript": ("/**", " * ", " */"),
    "javascript": ("/**", " * ", " */"),
    "java": ("/**", " * ", " */"),
    "go": ("//", "// ", ""),
    "rust": ("///", "/// ", ""),
}


@dataclass(frozen=True)
class DocSlot:
    """Where the documentation goes in the target and how the model's answer is begun."""

    language: str
    before: str  # the target's text before the documentation
    after: str  # and after it
    indent: str
    answer_start: str  # what the answer is begun with (after the code fence)
    stop: tuple[str, ...]
    lead: str = ""  # the comment's text begun for the model (Go: the name)

    def prompt(self, chat: ChatPrompt) -> ChatPrompt:
        fence = f"```{self.language}\n"
        return ChatPrompt(chat.text + fence + self.answer_start, chat.stop + self.stop, MAX_TOKENS)

    def assemble(self, generated: str) -> str:
        """The target with the documentation the model wrote; "" when it wrote none."""
        for stop in self.stop:  # a backend may return the stop string with the text
            generated = generated.split(stop, 1)[0]
        if self.language == "python":
            text = _python_doc(generated, self.indent)
        else:
            text = _block_doc(generated, self.language, self.indent, self.lead)
        return self.before + text + self.after if text else ""


def _python_doc(generated: str, indent: str) -> str:
    lines = [line.rstrip() for line in generated.rstrip().split("\n")]
    first = lines[0].strip()
    rest = [line if line.strip() else "" for line in lines[1:]]
    while rest and not rest[-1]:
        rest.pop()
    if not first and not rest:
        return ""
    if not rest:
        return f"{indent}{PYTHON_QUOTES}{first}{PYTHON_QUOTES}\n"
    body = "\n".join([f"{indent}{PYTHON_QUOTES}{first}", *rest])
    return f"{body}\n{indent}{PYTHON_QUOTES}\n"


def _block_doc(generated: str, language: str, indent: str, lead: str) -> str:
    opener, prefix, closer = BLOCK_STYLES[language]
    head, *more = generated.split("\n")
    lines = [(lead + head).strip()]
    for raw in more:
        line = raw.strip()
        if closer:  # inside /** ... */ every line is the comment's
            line = line.lstrip("*").strip()
        elif line.startswith(opener):
            line = line[len(opener) :].strip()
        else:
            break  # the code after the comment
        lines.append(line)
    while lines and not lines[-1]:
        lines.pop()
    if not lines or lines == [lead.strip()]:
        return ""
    out = [f"{indent}{prefix}{line}".rstrip() for line in lines]
    if closer:
        out = [f"{indent}{opener}", *out, f"{indent}{closer}"]
    return "\n".join(out) + "\n"


def doc_slot(target: Target) -> DocSlot | None:
    """The slot for `target`'s documentation, or None (the whole-definition answer then)."""
    snap = target.snap
    info = snap.language
    definition = whole_definition(target)
    if info is None or definition is None:
        return None
    text = target.text
    if info.name == "python":
        inner = unwrapped(definition)
        body = inner.child_by_field_name("body")
        if body is None or body.start_point.row == inner.start_point.row or not body.named_children:
            return None
        first = body.named_children[0]
        if is_docstring(first):
            return None  # a docstring to refresh: the model rewrites it
        at = char_offset(snap, first.start_byte)
        line_start = snap.text.rfind("\n", 0, at) + 1
        cut = line_start - target.start
        if not 0 < cut < len(text):
            return None
        indent = indentation(text[cut:])
        before = text[:cut]
        start = before + indent + PYTHON_QUOTES
        return DocSlot("python", before, text[cut:], indent, start, (PYTHON_QUOTES, "```"))
    if info.name not in BLOCK_STYLES:
        return None
    opener, prefix, _ = BLOCK_STYLES[info.name]
    indent = indentation(text)
    name = node_name(definition)
    # Go's convention: the comment begins with the name it documents.
    lead = f"{name} " if info.name == "go" and name else ""
    if opener == "/**":
        start, stop = f"{indent}{opener}\n{indent}{prefix}", ("*/", "```")
    else:
        header = text.split("\n", 1)[0].strip()  # the model goes on to copy the code
        start, stop = f"{indent}{prefix}{lead}", ("```", header)
    return DocSlot(info.name, "", text, indent, start, stop, lead)
