import assert from "node:assert/strict";
import { test } from "node:test";
import { ACCEPTED, acceptArgument, acceptedLength, codePoints, PartialAccepts, PartialHook } from "../accept";
import { random } from "./random";

const COMMAND = { title: "Enclave: suggestion accepted", command: ACCEPTED, arguments: [{ id: "a1", uri: "file:///w/x.py" }] };

test("the item's command names the suggestion; anything else is no report", () => {
  assert.deepEqual(acceptArgument(COMMAND), { id: "a1", uri: "file:///w/x.py" });
  for (const bad of [
    undefined, null, 3, "enclave.lsp.accepted", { command: "enclave.lsp.explain", arguments: COMMAND.arguments },
    { command: ACCEPTED }, { command: ACCEPTED, arguments: [] }, { command: ACCEPTED, arguments: [null] },
    { command: ACCEPTED, arguments: [{ id: 1, uri: "u" }] }, { command: ACCEPTED, arguments: [{ id: "a" }] },
    { command: ACCEPTED, arguments: [{ id: "a", uri: "u" }, { id: "b", uri: "u" }] },
  ]) {
    assert.equal(acceptArgument(bad), undefined, JSON.stringify(bad));
  }
});

test("code points, as the server counts (len() of a Python str)", () => {
  assert.equal(codePoints("return x", 6), 6);
  assert.equal(codePoints("a😀b", 3), 2); // the emoji is two UTF-16 units, one code point
  assert.equal(codePoints("a😀b", 4), 3);
  assert.equal(codePoints("é中", 99), 2); // never past the text
  for (const n of [0, -1, NaN]) assert.equal(codePoints("abc", n), 0);
  const r = random(7);
  const alphabet = ["a", " ", "\n", "é", "中", "😀", "𝔘"];
  for (let k = 0; k < 500; k++) {
    const chars = Array.from({ length: r.int(12) }, () => r.pick(alphabet));
    const cut = r.int(chars.length + 1);
    assert.equal(codePoints(chars.join(""), chars.slice(0, cut).join("").length), cut, chars.join(""));
  }
});

test("VS Code's two forms of the accepted length", () => {
  assert.equal(acceptedLength(5), 5);
  assert.equal(acceptedLength({ kind: 0, acceptedLength: 7 }), 7);
  for (const bad of [0, -2, 1.5, NaN, Infinity, "5", null, undefined, {}, { acceptedLength: "3" }]) {
    assert.equal(acceptedLength(bad), undefined, String(bad));
  }
});

test("partial accepts report the running total, once per growth, per suggestion", () => {
  const p = new PartialAccepts();
  const text = "width * height😀 + 1";
  // VS Code tells twice per accept: the number, then {kind, acceptedLength}.
  assert.deepEqual(p.report(COMMAND, text, 5), { id: "a1", uri: "file:///w/x.py", acceptedChars: 5 });
  assert.equal(p.report(COMMAND, text, { kind: 0, acceptedLength: 5 }), undefined);
  assert.deepEqual(p.report(COMMAND, text, 16), { id: "a1", uri: "file:///w/x.py", acceptedChars: 15 });
  assert.equal(p.report(COMMAND, text, 8), undefined, "never less than before");
  const other = { ...COMMAND, arguments: [{ id: "b2", uri: "file:///w/x.py" }] };
  assert.equal(p.report(other, text, 5)?.acceptedChars, 5, "each suggestion has its own total");
  assert.equal(p.report(undefined, text, 5), undefined, "an item without the command");
  assert.equal(p.report(COMMAND, { value: "snippet" }, 99), undefined, "a snippet item");
});

test("generated accept sequences: reports grow strictly and end at the total taken", () => {
  const r = random(23);
  for (let k = 0; k < 300; k++) {
    const p = new PartialAccepts();
    const text = Array.from({ length: 1 + r.int(30) }, () => r.pick(["x", " ", "😀", "é"])).join("");
    let last = 0;
    let most = 0;
    for (let step = 0; step < 6; step++) {
      const length = r.int(text.length + 2);
      most = Math.max(most, codePoints(text, length));
      const got = p.report(COMMAND, text, r.int(2) ? length : { acceptedLength: length });
      if (got) {
        assert.ok(got.acceptedChars > last, `${got.acceptedChars} after ${last}`);
        last = got.acceptedChars;
      }
    }
    assert.equal(last, most, text);
    assert.ok(last <= [...text].length);
  }
});

test("only the most recent suggestions are remembered (as the server)", () => {
  const p = new PartialAccepts();
  const item = (id: string) => ({ command: ACCEPTED, arguments: [{ id, uri: "u" }] });
  assert.ok(p.report(item("first"), "abc", 1));
  for (let i = 0; i < 256; i++) assert.ok(p.report(item(`n${i}`), "abc", 1));
  // "first" was forgotten: the same total is reported again (the server counts it once).
  assert.equal(p.report(item("first"), "abc", 1)?.acceptedChars, 1);
});

test("the partial-accept hook: registered again with the hook, or the client's provider kept", () => {
  const disposed: string[] = [];
  const partial: unknown[] = [];
  const refusals: unknown[] = [];
  const hook = new PartialHook((item, info) => partial.push([item, info]), (err) => refusals.push(err));
  const provide = (): string => "items";
  const original = { dispose: () => disposed.push("client's") };
  const registered: object[] = [];
  const [d, p] = hook.wrap([original, { provideInlineCompletionItems: provide }], (provider) => {
    registered.push(provider);
    return { dispose: () => disposed.push("ours") };
  });
  assert.deepEqual(disposed, ["client's"], "the client's registration is replaced");
  assert.equal(p.provideInlineCompletionItems, provide, "the same completions (middleware included)");
  assert.equal(registered[0], p);
  (p as unknown as { handleDidPartiallyAcceptCompletionItem(i: object, n: number): void }).handleDidPartiallyAcceptCompletionItem({ insertText: "x" }, 1);
  assert.deepEqual(partial, [[{ insertText: "x" }, 1]]);
  d.dispose();
  assert.deepEqual(disposed, ["client's", "ours"]);

  // An editor that does not grant the proposal throws: the client's provider stays, said once.
  const refusing = new PartialHook(() => assert.fail("no hook"), (err) => refusals.push(err));
  let calls = 0;
  const refuse = (): never => {
    calls++;
    throw new Error("Extension 'enclave.enclave' CANNOT use API proposal: inlineCompletionsAdditions");
  };
  for (let i = 0; i < 3; i++) {
    const kept = { dispose: () => disposed.push("kept") };
    const provider = { provideInlineCompletionItems: provide };
    const [dd, pp] = refusing.wrap([kept, provider], refuse);
    assert.equal(dd, kept);
    assert.equal(pp, provider);
  }
  assert.equal(calls, 1, "not tried again after a refusal");
  assert.equal(refusals.length, 1);
  assert.ok(!disposed.includes("kept"), "the client's registration is never disposed on a refusal");
});
