import assert from "node:assert/strict";
import { test } from "node:test";
import { enclaveActions, findingsText, isWorkspaceEdit, safeName } from "../actions";

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
