// Model-written Markdown made safe to preview: nothing in it may make the editor fetch from
// anywhere (VS Code's preview, even in its "strict" security, loads https: and data: images),
// and no link may carry the reader off with a click. The server sanitizes explanations already
// (lsp_server/features/markdown.py); this is the same rules again, in the extension, so a
// server of another version, or a stand-in, cannot get markup into the preview.
//
// The text is parsed (markdown-it, CommonMark with GFM tables, as the server's markdown-it-py),
// and written back from the tokens, keeping only:
// - headings, paragraphs, emphasis, lists, quotes, rules, tables, line breaks;
// - links as their text alone; no images, no link definitions;
// - raw HTML (inline, block, comments) as escaped text, so it shows and does nothing;
// - code spans and code blocks verbatim, under a fence longer than any run in their content;
// - URLs in text defanged (hxxp[:]//example[.]com), so the preview's linkify makes no links.
// One rule more than the server's: what linkify would still link (evil.com/x, x@evil.com, and
// file names such as foo.py, .py being a country's domain) becomes verbatim code.
// All other text is escaped where it could start markup.
import MarkdownIt = require("markdown-it");

type Token = MarkdownIt.Token;

const PARSER = new MarkdownIt("commonmark").enable("table");

// Python's \w and \s (the server's regexes) are Unicode-aware; JavaScript's are not.
const ALNUM = String.raw`\p{L}\p{N}`;
const PY_SPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const URL_RE = new RegExp(
  String.raw`(?<![${ALNUM}_])[a-z][a-z0-9+.\-]{1,15}://[^${PY_SPACE}<>\x60'"]+` +
    String.raw`|(?<![${ALNUM}_])www\.[^${PY_SPACE}<>()\x60'"]+`,
  "giu",
);
// What can start inline markup. Links, images and definitions all need a `]`, HTML and
// autolinks a `<`; emphasis markers are escaped unless inside a word (snake_case stays).
const INLINE_SPECIAL = new RegExp(
  String.raw`[\\\x60\]<]|&(?=#?[${ALNUM}_]+;)|(?<![${ALNUM}])[*_]|[*_](?![${ALNUM}])`,
  "gu",
);
// At a line's start: what could open a heading, quote, list, rule, fence or setext line.
const LINE_START = /^([ \t]*)([#>+=~-]|[0-9]{1,9}[.)])/;
const INFO_WORD = new RegExp(String.raw`^[${ALNUM}_+#.\-]{1,40}`, "u");
const SAFE_ALIGN = /^text-align:(left|right|center)$/;
const STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "g");

/** Python's str.strip(): the whitespace the server strips (not JavaScript's trim()). */
function strip(text: string): string {
  return text.replace(STRIP, "");
}

const SCHEMES: Record<string, string> = {
  http: "hxxp",
  https: "hxxps",
  ftp: "fxp",
  ws: "wx",
  wss: "wxs",
};

/** hxxp[:]//example[.]com/path: readable, but no renderer turns it into a link. */
export function defang(url: string): string {
  const at = url.indexOf("://");
  if (at < 0) return url.replaceAll(".", "[.]");
  const scheme = url.slice(0, at);
  const rest = url.slice(at + 3);
  const slash = rest.indexOf("/");
  const host = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? "" : rest.slice(slash);
  const safe = SCHEMES[scheme.toLowerCase()] ?? "xx" + scheme;
  return `${safe}[:]//${host.replaceAll(".", "[.]")}${path}`;
}

function escapeText(text: string, inTable: boolean): string {
  const out = text.replace(INLINE_SPECIAL, (c) => "\\" + c);
  return inTable ? out.replaceAll("|", "\\|") : out;
}

/** Which rules apply: the server's, or the server's and the extension's own (the default). */
export interface Rules {
  /** Text the preview's linkify would make a link (evil.com/x, x@evil.com, foo.py) as code. */
  fuzzyLinksAsCode: boolean;
}

export const SERVER_RULES: Rules = { fuzzyLinksAsCode: false };
export const EXTENSION_RULES: Rules = { fuzzyLinksAsCode: true };

let rules: Rules = EXTENSION_RULES;

/** Text outside URLs: escaped, with what linkify would link (no scheme) as verbatim code. */
function text(segment: string, inTable: boolean): string {
  if (!rules.fuzzyLinksAsCode) return escapeText(segment, inTable);
  const out: string[] = [];
  let pos = 0;
  for (const m of PARSER.linkify.match(segment) ?? []) {
    if (m.index < pos) continue;
    out.push(escapeText(segment.slice(pos, m.index), inTable));
    out.push(codeSpan(segment.slice(m.index, m.lastIndex), inTable));
    pos = m.lastIndex;
  }
  out.push(escapeText(segment.slice(pos), inTable));
  return joinPieces(out);
}

/**
 * Concatenate, keeping a code span's closing fence from running into a following backtick (one
 * run of two would not close it, and a later single backtick would): the server's _join.
 */
function joinPieces(pieces: readonly string[]): string {
  let out = "";
  for (const piece of pieces) {
    if (out.endsWith("`") && piece.startsWith("`")) out += " ";
    out += piece;
  }
  return out;
}

/** Plain text as Markdown that parses back to the same text; URLs become defanged code. */
function plain(content: string, inTable = false): string {
  const out: string[] = [];
  let pos = 0;
  for (const m of content.matchAll(URL_RE)) {
    out.push(text(content.slice(pos, m.index), inTable));
    out.push(codeSpan(defang(m[0]), inTable));
    pos = m.index + m[0].length;
  }
  out.push(text(content.slice(pos), inTable));
  return joinPieces(out);
}

function lineStarts(markdown: string): string {
  return markdown
    .split("\n")
    .map((line) => line.replace(LINE_START, "$1\\$2"))
    .join("\n");
}

function fenceFor(content: string, char: string, least: number): string {
  let longest = 0;
  for (const run of content.match(new RegExp(`\\${char}+`, "g")) ?? []) {
    longest = Math.max(longest, run.length);
  }
  return char.repeat(Math.max(least, longest + 1));
}

function codeSpan(content: string, inTable: boolean): string {
  if (!content) return "";
  // GFM: a table cell splits at any unescaped pipe, inside code too.
  if (inTable) content = content.replaceAll("|", "\\|");
  const fence = fenceFor(content, "`", 1);
  // The parser strips one space from each side when both have one (and the content is not all
  // spaces): pad so that it reads back exactly this content.
  const first = content[0];
  const last = content[content.length - 1];
  const spaced = first === " " && last === " " && content.replace(/^ +| +$/g, "") !== "";
  const pad = first === "`" || last === "`" || spaced ? " " : "";
  return `${fence}${pad}${content}${pad}${fence}`;
}

function inline(tokens: readonly Token[], inTable = false): string {
  const out: string[] = [];
  for (const t of tokens) {
    if (t.type === "text") out.push(plain(t.content, inTable));
    else if (t.type === "code_inline") out.push(codeSpan(t.content, inTable));
    else if (t.type === "softbreak") out.push(inTable ? " " : "\n");
    else if (t.type === "hardbreak") out.push(inTable ? " " : "\\\n");
    else if (t.type === "html_inline") out.push(plain(t.content.replaceAll("\n", " "), inTable));
    else if (/^(em|strong)_(open|close)$/.test(t.type)) out.push(t.markup);
    // link_open / link_close (the text between stays), image (dropped), anything else.
  }
  const joined = joinPieces(out);
  if (inTable) return strip(joined);
  // Dropped images and links can leave blanks that would read as code or as a hard break.
  const lines = joined
    .split("\n")
    .map(strip)
    .filter((line) => line !== "");
  return lineStarts(lines.join("\n"));
}

function fenced(content: string, info: string): string {
  if (!content.endsWith("\n")) content += "\n";
  const fence = fenceFor(content, "`", 3);
  const word = INFO_WORD.exec(strip(info));
  return `${fence}${word ? word[0] : ""}\n${content}${fence}`;
}

function row(cells: string[], width: number): string {
  const padded = [...cells, ...Array<string>(width).fill("")].slice(0, width);
  return "| " + padded.join(" | ") + " |";
}

function table(tokens: readonly Token[]): string {
  const rows: string[][] = [];
  const aligns: string[] = [];
  let inHead = false;
  for (const t of tokens) {
    if (t.type === "thead_open") inHead = true;
    else if (t.type === "thead_close") inHead = false;
    else if (t.type === "tr_open") rows.push([]);
    else if ((t.type === "th_open" || t.type === "td_open") && inHead) {
      aligns.push(SAFE_ALIGN.exec(t.attrGet("style") ?? "")?.[1] ?? "");
    } else if (t.type === "inline") {
      rows[rows.length - 1].push(strip(inline(t.children ?? [], true)));
    }
  }
  if (rows.length === 0) return "";
  const rule: Record<string, string> = { left: ":---", right: "---:", center: ":---:", "": "---" };
  const width = rows[0].length;
  const lines = [row(rows[0], width), row(aligns.slice(0, width).map((a) => rule[a]), width)];
  for (const r of rows.slice(1)) lines.push(row(r, width));
  return lines.join("\n");
}

function indent(block: string, first: string, rest: string): string {
  const lines = block.split("\n");
  return [first + lines[0], ...lines.slice(1).map((line) => (line ? rest + line : line))].join(
    "\n",
  );
}

/** The end (exclusive) of the container token opened at `start`. */
function closing(tokens: readonly Token[], start: number): number {
  let depth = 1;
  let j = start + 1;
  while (depth) {
    depth += tokens[j].nesting;
    j += 1;
  }
  return j;
}

/** Render a sequence of sibling blocks; each entry is one block's Markdown. */
function blocks(tokens: readonly Token[]): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i];
    if (t.nesting === 1) {
      const j = closing(tokens, i);
      const rendered = container(t, tokens.slice(i + 1, j - 1));
      if (rendered) out.push(rendered);
      i = j;
      continue;
    }
    if (t.type === "inline") {
      const text = inline(t.children ?? []);
      if (strip(text)) out.push(text);
    } else if (t.type === "fence" || t.type === "code_block") {
      out.push(fenced(t.content, t.type === "fence" ? t.info : ""));
    } else if (t.type === "html_block") {
      const lines = t.content
        .split("\n")
        .filter((line) => strip(line))
        .map((line) => plain(strip(line)));
      if (lines.length) out.push(lineStarts(lines.join("\n")));
    } else if (t.type === "hr") {
      out.push("* * *");
    }
    i += 1;
  }
  return out;
}

function container(t: Token, inner: readonly Token[]): string {
  if (t.type === "heading_open") {
    const text = blocks(inner).join(" ").replaceAll("\n", " ");
    return strip(text) ? `${"#".repeat(Number(t.tag.slice(1)))} ${text}` : "";
  }
  if (t.type === "blockquote_open") {
    const body = blocks(inner).join("\n\n");
    return body
      .split("\n")
      .map((line) => (line ? `> ${line}` : ">"))
      .join("\n");
  }
  if (t.type === "bullet_list_open" || t.type === "ordered_list_open") return list(t, inner);
  if (t.type === "table_open") return table(inner);
  return blocks(inner).join("\n\n"); // paragraphs and anything else: their content
}

function list(t: Token, inner: readonly Token[]): string {
  const ordered = t.type === "ordered_list_open";
  let number = ordered ? Number(t.attrGet("start") ?? 1) : 0;
  const tight = inner.filter((x) => x.type === "paragraph_open").every((x) => x.hidden);
  const items: string[] = [];
  let i = 0;
  while (i < inner.length) {
    const j = closing(inner, i);
    const marker = ordered ? `${number}${t.markup || "."} ` : `${t.markup || "-"} `;
    number += 1;
    const body = blocks(inner.slice(i + 1, j - 1)).join(tight ? "\n" : "\n\n");
    items.push(indent(body, marker, " ".repeat(marker.length)));
    i = j;
  }
  return items.join(tight ? "\n" : "\n\n");
}

// Writing back can change how the text parses where content was taken out (a loose list whose
// items were emptied reads back tight): passes run until the text is stable (the output only
// loses content, so a few passes always settle).
const MAX_PASSES = 4;

/** The Markdown with nothing that fetches, links or runs (see the top of this file). */
export function sanitizeMarkdown(markdown: string, use: Rules = EXTENSION_RULES): string {
  rules = use;
  let out = markdown;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const before = out;
    out = blocks(PARSER.parse(before, {})).join("\n\n") + (before.endsWith("\n") ? "\n" : "");
    if (out === before) break;
  }
  return out;
}
