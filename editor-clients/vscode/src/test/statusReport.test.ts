import assert from "node:assert/strict";
import { test } from "node:test";
import MarkdownIt = require("markdown-it");
import { sanitizeMarkdown } from "../markdown";
import { median, statusReport } from "../statusReport";

const PREVIEW = new MarkdownIt("default", { html: true, linkify: true });
const CLIENT = { asOf: "18:07:01", completions: "snoozed until 14:35", server: "/v/bin/enclave serve", modelSize: "1.5b" };

// The shape of lsp_server/handlers/status.py's answer.
const ANSWER = {
  state: "ready",
  message: "model loaded",
  model: "/home/u/.cache/enclave/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
  lastEmptyReason: "",
  modelInfo: { path: "/x.gguf", architecture: "qwen2", template: "qwen2.5-coder", context_length: 32768, load_ms: 6123.4 },
  recent: [
    { kind: "completion", generated_tokens: 12, stop_reason: "stop", queued_ms: 5, build_ms: 2, prompt_ms: 900, generate_ms: 800, job_id: 1 },
    { kind: "completion", generated_tokens: 30, stop_reason: "length", queued_ms: 0, build_ms: 1, prompt_ms: 100, generate_ms: 2000, job_id: 2 },
    { kind: "prefetch", generated_tokens: 4, stop_reason: "stop", queued_ms: 0, build_ms: 0, prompt_ms: 50, generate_ms: 250, job_id: 3 },
  ],
  counters: { requests: 8, answeredFromCache: 2, answeredFromPrefetch: 1, modelCalls: 5, promptTokens: 4000, reusedTokens: 3000, evaluatedTokens: 1000, superseded: 1 },
  workerPid: 4242,
  index: { roots: ["/w"], building: false, files: 120, buildMs: 340.5, recentChunks: 3, lastGatherMs: 1.2 },
  lastPrompts: [{ prompt: "SECRET PROMPT TEXT", text: "x" }],
  stats: { acceptance: 0.4 },
};

/** The preview's table rows as "cell | cell", and its headings. */
function read(page: string): string[] {
  const html = PREVIEW.render(sanitizeMarkdown(page));
  const text = (h: string): string => h.replace(/<[^>]+>/g, "").replace(/&amp;/g, "&").trim();
  return [
    ...[...html.matchAll(/<(?:h\d|p)>(.*?)<\/(?:h\d|p)>/g)].map((m) => text(m[1])),
    ...[...html.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) =>
      [...m[1].matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => text(c[1])).join(" | "),
    ),
  ];
}

test("the status reads as a page: state, model, this editor, figures, recent generations", () => {
  const page = statusReport(ANSWER, CLIENT);
  const shown = read(page);
  for (const line of [
    "State | ready",
    "Figures as of 18:07:01.",
    "Model | qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    "Context length | 32768 tokens",
    "Loaded in | 6.1 s",
    "Model worker | process 4242",
    "Inline completions | snoozed until 14:35",
    "Answered from the cache | 2 (25%)",
    "Prompt tokens reused | 3000 (75%)",
    "Files indexed | 120",
    "Building | no",
    "Recent generations (median 1.7 s over 3)",
    "prefetch | 4 | stop | 0 ms | 50 ms | 250 ms",
  ]) {
    assert.ok(shown.includes(line), `${line}\n---\n${shown.join("\n")}`);
  }
  assert.ok(!page.includes("SECRET PROMPT TEXT"), "the prompts are never shown");
  assert.match(page, /## Other figures\n\n```json\n\{\n {2}"stats": \{\n {4}"acceptance": 0\.4/);
});

test("whatever the server answers, the page is inert and nothing throws", () => {
  const hostile = "[x](https://evil.example/a) <img src=https://evil.example/i> ![i](https://evil.example/p) | `";
  for (const answer of [
    undefined, null, 7, "text", [], { state: hostile, message: hostile, model: hostile, lastEmptyReason: hostile },
    { recent: [null, 3, { kind: hostile, generated_tokens: hostile }], counters: { requests: "many" }, index: [] },
    { modelInfo: { architecture: hostile, context_length: "x", load_ms: Infinity } },
    { [hostile]: hostile },
  ]) {
    const page = sanitizeMarkdown(statusReport(answer, { ...CLIENT, server: hostile }));
    const html = PREVIEW.render(page);
    assert.ok(!/<(a|img)\b/.test(html), html);
    assert.ok(!/https?:\/\/evil/.test(html.replace(/<code[^>]*>[^<]*<\/code>/g, "")), html);
  }
});

test("median", () => {
  assert.equal(median([]), undefined);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});
