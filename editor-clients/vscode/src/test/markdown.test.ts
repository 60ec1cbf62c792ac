// The extension's Markdown sanitizer: nothing in an explanation may make the preview fetch
// from anywhere or carry a link. Judged on what a renderer makes of the output: markdown-it as
// VS Code's preview runs it (raw HTML on, linkify on), its HTML read tag by tag.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import MarkdownIt = require("markdown-it");
import { defang, sanitizeMarkdown, SERVER_RULES } from "../markdown";
import { Random, random } from "./random";

const PREVIEW = new MarkdownIt("default", { html: true, linkify: true, typographer: false });
const PARSER = new MarkdownIt("commonmark").enable("table");
const ALLOWED_TAGS = new Set([
  "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code", "em",
  "strong", "s", "hr", "br", "table", "thead", "tbody", "tr", "th", "td",
]);
const LIVE_URL = /\b(?:https?|ftp|wss?|file):\/\/|\bwww\./i;

function allowedAttribute(tag: string, name: string, value: string): boolean {
  return (
    (tag === "code" && name === "class" && value.startsWith("language-")) ||
    (tag === "ol" && name === "start" && /^\d+$/.test(value)) ||
    ((tag === "th" || tag === "td") &&
      name === "style" &&
      /^text-align:(left|right|center)$/.test(value))
  );
}

function decode(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/** What is wrong with the preview's HTML of the sanitized text (empty: inert). */
function problems(markdown: string): string[] {
  const html = PREVIEW.render(sanitizeMarkdown(markdown));
  const found: string[] = [];
  let inCode = 0;
  let last = 0;
  const text = (data: string): void => {
    if (inCode === 0 && LIVE_URL.test(decode(data))) found.push(`live URL in text: ${data}`);
  };
  // Every "<" in markdown-it's output starts a tag: each must be one of the allowed ones.
  for (const m of html.matchAll(/<[^>]*>?/g)) {
    text(html.slice(last, m.index));
    last = m.index + m[0].length;
    const tag = /^<(\/?)([a-z][a-z0-9]*)((?: [a-z-]+="[^"]*")*) ?\/?>$/.exec(m[0]);
    if (!tag) {
      found.push(`markup ${m[0]}`);
      continue;
    }
    const [, close, name, attrs] = tag;
    if (!ALLOWED_TAGS.has(name)) found.push(`tag <${name}>`);
    for (const a of attrs.matchAll(/ ([a-z-]+)="([^"]*)"/g)) {
      if (!allowedAttribute(name, a[1], decode(a[2]))) found.push(`${a[1]}="${a[2]}" on <${name}>`);
    }
    if (name === "code" || name === "pre") inCode += close ? -1 : 1;
  }
  text(html.slice(last));
  return found;
}

/** Code blocks (in order) and code spans (counted) as a renderer finds them. */
function codeOf(markdown: string): [string[], Map<string, number>] {
  const blocks: string[] = [];
  const spans = new Map<string, number>();
  for (const t of PARSER.parse(markdown, {})) {
    if (t.type === "fence" || t.type === "code_block") {
      blocks.push(t.content.endsWith("\n") ? t.content : t.content + "\n");
    }
    for (const c of t.children ?? []) {
      if (c.type === "code_inline") spans.set(c.content, (spans.get(c.content) ?? 0) + 1);
    }
  }
  return [blocks, spans];
}

// -- the grammar of attacks (the server's, tests/unit/test_markdown.py) ------------------------

const TARGETS = [
  "http://evil.example/p.png",
  "HTTPS://evil.example/x?q=1",
  "//evil.example/p",
  "javascript:alert(1)",
  "JaVaScRiPt:alert(1)",
  "data:image/png;base64,iVBORw0KGgo=",
  "data:text/html,<script>alert(1)</script>",
  "file:///etc/passwd",
  "vbscript:msgbox(1)",
  "&#104;ttp://evil.example/e.png",
  "&#x68;ttps://evil.example/e",
  "h&#116;tp://evil.example/e",
  "java&#x73;cript:alert(1)",
  "http%3A%2F%2Fevil.example",
  "ftp://evil.example/f",
  "www.evil.example/w",
  "http://evil.example/a_(b)",
  "evil.com/fuzzy",
  "x@evil.com",
  "mailto:x@evil.com",
];

function destination(r: Random): string {
  const url = r.pick(TARGETS);
  return r.pick(["{u}", "<{u}>", '{u} "t"', "{u} 't'", "<{u}> (t)", " {u} "]).replace("{u}", url);
}

function fragment(r: Random): string {
  const d = destination(r);
  const u = r.pick(TARGETS);
  const forms = [
    `[text](${d})`, `![alt](${d})`, `[a [b] c](${d})`, `[a [b](${d}) c](${u})`,
    `[![alt](${d})](${u})`, "[ref text][r1]", "![alt][r1]", "[r1]", "[r1][]", `\n[r1]: ${d}\n`,
    `\n   [R1]:\n   ${u}\n`, `<${u}>`, "<mailto:x@evil.example>", "<x@evil.example>",
    `\\[x](${u})`, `[x\\](${u})`, `[x]\\(${u})`, `\\![x](${u})`, `<img src=${u}>`,
    `<img src="${u}" onerror="alert(1)">`, `<IMG SRC='${u}'>`, `<img/src=${u}>`,
    `<img\nsrc=${u}>`, `<a href="${u}">t</a>`, `\n<iframe src=${u}></iframe>\n`,
    `<svg onload=alert(1)><image href=${u} /></svg>`, `\n<style>@import url(${u});</style>\n`,
    `<div style="background:url(${u})">d</div>`, `<!-- <img src=${u}> -->`,
    `\n<!--\n<img src=${u}>\n-->\n`, `<script>fetch('${u}')</script>`,
    `<object data=${u}></object>`, `<video poster="${u}"></video>`,
    `<link rel="stylesheet" href="${u}">`, `<meta http-equiv="refresh" content="0;url=${u}">`,
    `<base href="${u}">`, `<form action=${u}><button formaction=${u}>b</button></form>`,
    `<source srcset="${u} 2x">`, `<math><mtext><img src=${u}></mtext></math>`,
    `\n<div>\n\n![alt](${d})\n\n</div>\n`, `\`${u}\``, `\`\` \`<img src=${u}>\` \`\``,
    `\n\`\`\`\n<img src=${u}>\n\`\`\`\n`, `\n\`\`\`\`md\n\`\`\`\n<img src=${u}>\n\`\`\`\`\n`,
    `\n~~~\n\`\`\`\n</pre><img src=${u}>\n~~~\n`, `\n\`\`\`\n<img src=${u}>\n`,
    `\n    <img src=${u}>\n`, "\\", "\\`", "&lt;img src=x&gt;", "&amp;#104;", "&#60;img src=x&#62;",
    "*", "_", "]", "[", "|", "`", "```", "~~~", "<", ">", "word", "snake_case", "~~struck~~",
    // The holes of the old regex sanitizer: stray backticks around markup, a fence opened by
    // a backtick after it.
    `a \` b\n\n<img src=${u}>\n\nc \` d`, `\`\`\` \`\n<form action=${u}><script>x</script>`,
  ];
  return r.pick(forms);
}

const PREFIXES = ["", "", "> ", "- ", "1. ", "  - ", "# ", "> - ", "| "];

function documentOf(r: Random): string {
  const parts: string[] = [];
  const n = 1 + r.int(8);
  for (let i = 0; i < n; i++) {
    const block = "\n\n" + r.pick(PREFIXES);
    parts.push(r.pick([" ", " ", "\n", "\n\n", block]) + fragment(r));
  }
  if (r.int(2)) {
    const row = [fragment(r), fragment(r)].map((c) => c.replaceAll("\n", " ")).join(" | ");
    parts.push(`\n\n| h | i |\n|:--|--:|\n| ${row} |\n`);
  }
  return r.pick(PREFIXES) + parts.join("");
}

function documents(seed: number, count: number): string[] {
  const r = random(seed);
  return Array.from({ length: count }, () => documentOf(r));
}

/** Any text: printable ASCII, Markdown's punctuation, controls, Unicode spaces and letters. */
function anyText(r: Random): string {
  const alphabet = [..."`*_[]()<>!#&;:/.\\|~-=+ \n\t\r\"'", "a", "Z", "0", "é", "\u00a0", "\u2028",
    "\u0000", "\u200b", "\ufeff", "\u{1F600}", "\u0661", "ſ"];
  const n = r.int(80);
  let s = "";
  for (let i = 0; i < n; i++) s += r.int(4) ? r.pick(alphabet) : String.fromCharCode(32 + r.int(95));
  return s;
}

test("generated attacks render to inert HTML (seeded: 1500 documents)", () => {
  for (const [i, md] of documents(1, 1500).entries()) {
    assert.deepEqual(problems(md), [], `case ${i}: ${JSON.stringify(md)} -> ${JSON.stringify(sanitizeMarkdown(md))}`);
  }
});

test("code is kept verbatim and the output is stable (seeded: 400 documents)", () => {
  for (const [i, md] of documents(2, 400).entries()) {
    const out = sanitizeMarkdown(md);
    const [blocks, spans] = codeOf(md);
    const [outBlocks, outSpans] = codeOf(out);
    const why = `case ${i}: ${JSON.stringify(md)} -> ${JSON.stringify(out)}`;
    assert.deepEqual(outBlocks, blocks, why); // no fence closed early, none opened by text
    for (const [span, count] of spans) assert.ok((outSpans.get(span) ?? 0) >= count, why);
    assert.equal(sanitizeMarkdown(out), out, why); // idempotent: nothing left to take out
  }
});

test("any text renders to inert HTML (seeded: 600 texts)", () => {
  const r = random(3);
  for (let i = 0; i < 600; i++) {
    const md = anyText(r);
    assert.deepEqual(problems(md), [], JSON.stringify(md));
  }
});

// Classic payloads (OWASP XSS filter evasion and markdown-injection lists, shortened).
const KNOWN_BAD = [
  "[a](javascript:alert('XSS'))",
  "[a](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
  "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
  "![a](https://evil.example/p.png)",
  "![a](<https://evil.example/p p.png>)",
  "![a][x]\n\n[x]:\n  <https://evil.example/p.png>\n  'title'",
  "[![a](https://evil.example/p.png)](https://evil.example/l)",
  "<https://evil.example/auto>",
  "<img src=`x`onerror=alert(1)>",
  '<img """><script>alert("XSS")</script>">',
  "<svg/onload=alert(1)>",
  "<details open ontoggle=alert(1)>",
  "<!--><img src=https://evil.example/c>-->",
  "<![CDATA[<img src=https://evil.example/c>]]>",
  "<?php echo 1 ?><img src=https://evil.example/pi>",
  "<!DOCTYPE html><img src=https://evil.example/d>",
  "```\n```\n<img src=https://evil.example/f>",
  "``` `\n<img src=https://evil.example/f2>\n```",
  "~~~\n```\n~~~\n<img src=https://evil.example/f3>",
  "- a\n\n      <img src=https://evil.example/l>\n- b",
  "| a |\n|---|\n| `x|<img src=https://evil.example/t2>` |",
  "\\\\<img src=https://evil.example/e2>",
  "[x\n](https://evil.example/nl)",
  "Setext [x](https://evil.example/s)\n===",
  "[X]: https://evil.example/def\n[x]",
  " ` `http://evil.example/p.png`", // a span's closing fence ran into the next span's backticks
  "see http://evil.example/bare and https://evil.example/bare2.",
  // The old sanitizer's code-span regex ran across paragraphs: markup between two stray
  // backticks passed verbatim.
  "one ` tick\n\n<img src=https://evil.example/s1>\n\n<form action=https://evil.example/f>" +
    "<button>go</button></form>\n\n<script>fetch('https://evil.example/x')</script>\n\nand ` two",
  "`` a\n\n<img src=https://evil.example/s2>\n\nb ``",
  "see evil.com/x, mail x@evil.com, read shapes.py",
];

test("known payloads render to inert HTML", () => {
  for (const payload of KNOWN_BAD) {
    assert.deepEqual(problems(payload), [], `${JSON.stringify(payload)} -> ${JSON.stringify(sanitizeMarkdown(payload))}`);
  }
});

test("links keep their text; images, definitions and their URLs go", () => {
  assert.equal(sanitizeMarkdown("See [the docs](https://evil.example/t?id=1) for more."), "See the docs for more.");
  assert.equal(sanitizeMarkdown("Before ![pixel](http://evil.example/p.png) after"), "Before  after");
  assert.equal(sanitizeMarkdown("Read [the guide][g].\n\n[g]: https://evil.example/guide\n"), "Read the guide.\n");
  assert.equal(
    sanitizeMarkdown("Go to <https://evil.example/a> or http://evil.example/b now"),
    "Go to `hxxps[:]//evil[.]example/a` or `hxxp[:]//evil[.]example/b` now",
  );
  assert.equal(defang("https://a.b.c/d.e"), "hxxps[:]//a[.]b[.]c/d.e");
  assert.equal(defang("www.a.b"), "www[.]a[.]b");
});

test("what linkify would still link becomes verbatim code (the server's rules leave it)", () => {
  const md = "see evil.com/x and x@evil.com in shapes.py";
  assert.equal(sanitizeMarkdown(md), "see `evil.com/x` and `x@evil.com` in `shapes.py`");
  assert.equal(sanitizeMarkdown(md, SERVER_RULES), md);
  assert.ok(PREVIEW.render(sanitizeMarkdown(md, SERVER_RULES)).includes("<a href"));
});

test("raw HTML shows as text; code stays exactly as written", () => {
  const out = sanitizeMarkdown("`List<String>` or List<String> and <b>bold</b>");
  assert.equal(out, "`List<String>` or List\\<String> and \\<b>bold\\</b>");
  const md =
    "Use `requests.get('http://host/x')` like this:\n\n" +
    "```python\nurl = 'https://example.com/[a](b)'\n```\n\nand [link](http://evil.example).";
  const code = sanitizeMarkdown(md);
  assert.ok(code.includes("`requests.get('http://host/x')`"), code);
  assert.ok(code.includes("```python\nurl = 'https://example.com/[a](b)'\n```"), code);
  assert.ok(code.endsWith("and link."), code);
  const fence = "````\n```\n<img src=x>\n```\n````";
  assert.equal(sanitizeMarkdown(fence), fence);
  assert.equal(sanitizeMarkdown("```\n<b>"), "```\n<b>\n```"); // never closed: code to the end
});

test("plain Markdown reads the same", () => {
  const md =
    "## Title\n\nSome *emphasis*, **strong** and snake_case.\n\n- one `x[0]`\n- two\n\n" +
    "1. first\n2. second\n\n> quoted\n\n| a | b |\n| :--- | ---: |\n| 1 | 2 |\n\n```\ncode\n```\n";
  assert.equal(sanitizeMarkdown(md), md);
  assert.equal(
    sanitizeMarkdown('{"a": [1, "see [docs](http://evil.example/d)"]}'),
    '{"a": [1, "see docs"\\]}',
  );
  for (const md of ["1. ![](http://x)\n\n2. ![](http://y)", "-  ![alt](http://evil.example/p.png)\n\n- *"]) {
    const out = sanitizeMarkdown(md);
    assert.equal(sanitizeMarkdown(out), out);
  }
});

// The server's sanitizer (lsp_server/features/markdown.py) on the same inputs, when the
// checkout's virtual environment is there: with the server's rules, the two write the same.
const PYTHON = resolve(__dirname, "..", "..", "..", "..", ".venv", "bin", "python");

test("with the server's rules, the same output as the server's sanitizer", (t) => {
  if (!existsSync(PYTHON)) {
    t.skip(`no ${PYTHON}: the server's sanitizer is not installed here`);
    return;
  }
  const r = random(4);
  const inputs = [...documents(5, 500), ...Array.from({ length: 300 }, () => anyText(r)), ...KNOWN_BAD];
  const code =
    "import json, sys\n" +
    "from lsp_server.features.markdown import sanitize_markdown\n" +
    "print(json.dumps([sanitize_markdown(s) for s in json.load(sys.stdin)]))\n";
  const run = spawnSync(PYTHON, ["-c", code], {
    input: JSON.stringify(inputs),
    encoding: "utf8",
    cwd: join(__dirname, "..", "..", "..", ".."),
    maxBuffer: 64 << 20,
  });
  assert.equal(run.status, 0, run.stderr);
  const expected = JSON.parse(run.stdout) as string[];
  const differ = inputs.filter((md, i) => sanitizeMarkdown(md, SERVER_RULES) !== expected[i]);
  assert.deepEqual(
    differ.slice(0, 3).map((md) => [md, sanitizeMarkdown(md, SERVER_RULES), expected[inputs.indexOf(md)]]),
    [],
    `${differ.length} of ${inputs.length} differ`,
  );
});
