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
    {},
  );
  assert.equal(view.text, "$(sparkle) Enclave");
  assert.equal(view.level, "normal");
  assert.match(view.tooltip, /\*\*Enclave\*\*: ready/);
  assert.match(view.tooltip, /Model: `qwen2\.5-coder-0\.5b\.gguf`/);
  assert.match(view.tooltip, /Last empty answer: inside a string/);
  assert.match(view.accessibility, /^Enclave: ready\. model qwen2\.5-coder-0\.5b\.gguf\. model loaded\. inside a string$/);
});

test("a message that only repeats the state is not shown twice", () => {
  const view = formatStatus({ state: "ready", message: "ready" });
  assert.equal(view.tooltip.split("ready").length - 1, 1, view.tooltip);
  assert.equal(view.accessibility, "Enclave: ready");
});

test("loading spins; error is an error; stopped is a warning", () => {
  assert.equal(formatStatus({ state: "loading" }).text, "$(sync~spin) Enclave");
  assert.equal(formatStatus(undefined).text, "$(sync~spin) Enclave");
  const error = formatStatus({ state: "error", message: "model file missing" });
  assert.equal(error.level, "error");
  assert.equal(error.text, "$(error) Enclave");
  assert.match(error.tooltip, /model file missing/);
  assert.equal(formatStatus({ state: "stopped" }).level, "warning");
  assert.equal(formatStatus({ state: "weird" }).text, "$(question) Enclave");
});

test("off, off for a language and snoozed: said in the status bar while the model is ready", () => {
  const off = formatStatus({ state: "ready" }, { suppressed: "off" });
  assert.equal(off.text, "$(circle-slash) Enclave off");
  assert.match(off.tooltip, /turned off\./);
  assert.match(off.accessibility, /^Enclave: completions off/);
  const python = formatStatus({ state: "ready" }, { suppressed: "language", language: "Python" });
  assert.equal(python.text, "$(circle-slash) Enclave off for Python");
  assert.match(python.tooltip, /turned off for Python/);
  const snoozed = formatStatus({ state: "ready", model: "/m/q.gguf" }, { suppressed: "snoozed", snoozedUntil: "14:35" });
  assert.equal(snoozed.text, "$(clock) Enclave snoozed until 14:35");
  assert.match(snoozed.accessibility, /^Enclave: snoozed until 14:35\. model q\.gguf$/);
  assert.match(snoozed.tooltip, /Click for the Enclave menu/);
});

test("the server's own state comes first; what the extension stops is still said", () => {
  const loading = formatStatus({ state: "loading" }, { suppressed: "off" });
  assert.equal(loading.text, "$(sync~spin) Enclave");
  assert.match(loading.tooltip, /turned off/);
  const error = formatStatus({ state: "error", message: "missing" }, { suppressed: "snoozed", snoozedUntil: "09:05" });
  assert.equal(error.text, "$(error) Enclave");
  assert.match(error.accessibility, /snoozed until 09:05/);
});

test("server text cannot inject Markdown links, HTML or commands", () => {
  const view = formatStatus(
    { state: "ready", lastEmptyReason: "[x](command:evil) <img src=x>" },
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
