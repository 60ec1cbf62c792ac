import assert from "node:assert/strict";
import { test } from "node:test";
import MarkdownIt = require("markdown-it");
import { sanitizeMarkdown } from "../markdown";
import { median, statsPage, statusReport } from "../statusReport";

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
  assert.match(page, /## Local statistics\n\nThis server keeps no local statistics\./);
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

const STATS = {
  enabled: true,
  file: "/home/u/.local/state/enclave/stats.json",
  warning: "",
  session: {
    python: { shown: 4, accepted: 1, charsSuggested: 80, charsAccepted: 21, fromModel: 3, fromCache: 1, fromPrefetch: 0, acceptanceRate: 0.25, cacheShare: 0.25, p50Ms: 850, p90Ms: 2400, empty: { deadline: 1 } },
  },
  allTime: {
    javascript: { shown: 10, accepted: 4, charsSuggested: 300, charsAccepted: 64, acceptanceRate: 0.4, cacheShare: 0.5, p50Ms: 400, p90Ms: 1200, empty: {} },
    python: { shown: 4, accepted: 1, charsSuggested: 80, charsAccepted: 21, acceptanceRate: 0.25, cacheShare: 0.25, p50Ms: 850, p90Ms: 2400, empty: {} },
  },
};

test("the statistics: per language, this session and all time, on the status page and their own", () => {
  for (const page of [statsPage({ ...ANSWER, stats: STATS }, "18:07:01"), statusReport({ ...ANSWER, stats: STATS }, CLIENT)]) {
    const shown = read(page);
    for (const line of [
      "language | shown | accepted | rate | characters suggested | characters accepted | p50 | p90 | from the caches",
      "python | 4 | 1 | 25.0% | 80 | 21 | 850 ms | 2.4 s | 25.0%",
      "javascript | 10 | 4 | 40.0% | 300 | 64 | 400 ms | 1.2 s | 50.0%",
      "Local statistics: this session",
      "Local statistics: all time",
      "Figures as of 18:07:01.",
    ]) {
      assert.ok(shown.includes(line), `${line}\n---\n${shown.join("\n")}`);
    }
    assert.ok(!page.includes("## Other figures"), "the statistics are not shown as raw JSON");
  }
  assert.match(statsPage({ stats: { ...STATS, session: {} } }, "1"), /this session\n\nNo suggestions yet\./);
  const empty = { ...STATS.session.python, shown: 0, accepted: 0, acceptanceRate: null, cacheShare: null, p50Ms: null, p90Ms: null };
  assert.ok(read(statsPage({ stats: { ...STATS, session: { python: empty } } }, "1")).includes("python | 0 | 0 | - | 80 | 21 | - | - | -"));
});

test("the statistics say when they are off, or when the server keeps none", () => {
  assert.match(statsPage({ stats: { enabled: false, session: {}, allTime: {} } }, "1"), /Local statistics are off \(`enclave\.stats\.enabled`\)/);
  for (const answer of [{}, { stats: null }, { stats: [] }, { stats: { session: {} } }, 7]) {
    assert.match(statsPage(answer, "1"), /This server keeps no local statistics\./, JSON.stringify(answer));
  }
  assert.match(statsPage({ stats: { ...STATS, warning: "statistics file /x not read (bad)" } }, "1"), /Warning: statistics file/);
});

test("hostile statistics stay inert", () => {
  const hostile = "[x](https://evil.example/a) <img src=https://evil.example/i> | `";
  for (const stats of [
    { enabled: true, session: { [hostile]: { shown: hostile, accepted: {}, acceptanceRate: "x", p50Ms: hostile } }, allTime: hostile, warning: hostile },
    { enabled: true, session: [], allTime: { python: null } },
  ]) {
    const html = PREVIEW.render(sanitizeMarkdown(statsPage({ stats }, "1")));
    assert.ok(!/<(a|img)\b/.test(html), html);
    assert.ok(!/https?:\/\/evil/.test(html.replace(/<code[^>]*>[^<]*<\/code>/g, "")), html);
  }
});
