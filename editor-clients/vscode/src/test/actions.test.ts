import assert from "node:assert/strict";
import { test } from "node:test";
import { enclaveActions, findingsText, isWorkspaceEdit, safeName } from "../actions";
import { sanitizeMarkdown } from "../markdown";

test("only Enclave's code actions are offered, disabled ones last", () => {
  const items = [
    { title: "Organize imports", kind: "source.organizeImports" },
    { title: "Enclave: Add docstring", kind: "refactor.rewrite", disabled: { reason: "busy" } },
    { title: "Fix with Enclave", kind: "quickfix" },
    { title: "Enclave: Simplify", kind: "refactor.rewrite" },
    { title: "Enclave: a bare command", command: "enclave.x" },
  ];
  assert.deepEqual(
    enclaveActions(items).map((a) => a.title),
    ["Fix with Enclave", "Enclave: Simplify", "Enclave: Add docstring"],
  );
});

test("workspace edits are recognised", () => {
  assert.ok(isWorkspaceEdit({ changes: {} }));
  assert.ok(isWorkspaceEdit({ documentChanges: [] }));
  assert.ok(!isWorkspaceEdit(null));
  assert.ok(!isWorkspaceEdit({ applied: true }));
});

test("small texts", () => {
  assert.equal(findingsText(1), "1 finding");
  assert.equal(findingsText(3), "3 findings");
  assert.equal(safeName("primes.py lines 3-10"), "primes.py_lines_3-10");
  assert.equal(safeName("///"), "explanation");
});

test("explanations lose images and raw HTML, code stays as written", () => {
  const md = [
    "This adds `a < b` numbers. ![leak](https://example.invalid/x.png?code=secret)",
    "<img src=https://example.invalid/y.png> and <script>alert(1)</script>",
    "![ref image][r]",
    "> a quote & more",
    "```python",
    "if a < b and c > d:  # ![not an image](x)",
    "    pass",
    "```",
    "after",
  ].join("\n");
  const out = sanitizeMarkdown(md);
  assert.ok(!out.includes("https://example.invalid/x.png"), out);
  assert.ok(!out.includes("<img"), out);
  assert.ok(!out.includes("<script"), out);
  assert.ok(out.includes("`a < b`"), out);
  assert.ok(out.includes("This adds `a < b` numbers. leak"), out);
  assert.ok(out.includes("ref image"), out);
  assert.ok(out.includes("> a quote &amp; more"), out);
  assert.ok(out.includes("if a < b and c > d:  # ![not an image](x)"), out);
  assert.ok(out.endsWith("```\nafter"), out);
});

test("an unclosed fence keeps the rest verbatim", () => {
  assert.equal(sanitizeMarkdown("```\n<b>"), "```\n<b>");
});
