import assert from "node:assert/strict";
import { test } from "node:test";
import { baseName, escapeMarkdown, formatStatus } from "../status";

test("ready shows the model file and the reason for the last empty answer", () => {
  const view = formatStatus(
    {
      state: "ready",
      message: "model loaded",
      model: "/home/u/.cache/enclave/qwen2.5-coder-0.5b.gguf",
      lastEmptyReason: "inside a string",
    },
    true,
  );
  assert.equal(view.text, "$(sparkle) Enclave");
  assert.equal(view.level, "normal");
  assert.match(view.tooltip, /\*\*Enclave\*\*: ready/);
  assert.match(view.tooltip, /Model: `qwen2\.5-coder-0\.5b\.gguf`/);
  assert.match(view.tooltip, /Last empty answer: inside a string/);
  assert.match(view.accessibility, /^Enclave: ready\. model qwen2\.5-coder-0\.5b\.gguf\. model loaded\. inside a string$/);
});

test("a message that only repeats the state is not shown twice", () => {
  const view = formatStatus({ state: "ready", message: "ready" }, true);
  assert.equal(view.tooltip.split("ready").length - 1, 1, view.tooltip);
  assert.equal(view.accessibility, "Enclave: ready");
});

test("loading spins; error is an error; stopped is a warning", () => {
  assert.equal(formatStatus({ state: "loading" }, true).text, "$(sync~spin) Enclave");
  assert.equal(formatStatus(undefined, true).text, "$(sync~spin) Enclave");
  const error = formatStatus({ state: "error", message: "model file missing" }, true);
  assert.equal(error.level, "error");
  assert.equal(error.text, "$(error) Enclave");
  assert.match(error.tooltip, /model file missing/);
  assert.equal(formatStatus({ state: "stopped" }, true).level, "warning");
  assert.equal(formatStatus({ state: "weird" }, true).text, "$(question) Enclave");
});

test("completions turned off show as off while the model is ready", () => {
  const view = formatStatus({ state: "ready" }, false);
  assert.equal(view.text, "$(circle-slash) Enclave");
  assert.match(view.tooltip, /turned off/);
  assert.equal(formatStatus({ state: "loading" }, false).text, "$(sync~spin) Enclave");
});

test("server text cannot inject Markdown links, HTML or commands", () => {
  const view = formatStatus(
    { state: "ready", lastEmptyReason: "[x](command:evil) <img src=x>" },
    true,
  );
  assert.ok(!view.tooltip.includes("[x](command:evil)"));
  assert.ok(view.tooltip.includes("\\<img") && !/[^\\]<img/.test(view.tooltip));
  assert.equal(escapeMarkdown("a_b*c"), "a\\_b\\*c");
});

test("baseName takes the last segment with either separator", () => {
  assert.equal(baseName("/a/b/model.gguf"), "model.gguf");
  assert.equal(baseName("C:\\models\\m.gguf"), "m.gguf");
  assert.equal(baseName("plain"), "plain");
});
