// The server's `enclave/getStatus` answer as a Markdown page people can read ("Show status" in
// the status menu). No `vscode` import. Every value from the server is escaped; figures the
// extension does not know yet are shown as JSON in a code block (never the prompts).
import { baseName, escapeMarkdown } from "./status";

type Json = Record<string, unknown>;

function obj(value: unknown): Json {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function cell(value: unknown): string {
  const text = typeof value === "string" ? value : value === undefined || value === null ? "" : JSON.stringify(value);
  return escapeMarkdown(text.replace(/\s+/g, " ").trim()) || "-";
}

function table(rows: [string, unknown][]): string {
  const kept = rows.filter(([, v]) => v !== undefined && v !== null && v !== "");
  if (kept.length === 0) return "";
  return ["| | |", "|---|---|", ...kept.map(([k, v]) => `| ${k} | ${cell(v)} |`)].join("\n");
}

function share(part: number | undefined, whole: number | undefined): string | undefined {
  if (part === undefined) return undefined;
  if (!whole) return String(part);
  return `${part} (${Math.round((100 * part) / whole)}%)`;
}

function ms(value: unknown): string | undefined {
  const n = num(value);
  return n === undefined ? undefined : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** The median of the numbers (undefined when there are none). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const KNOWN = new Set(["state", "message", "model", "lastEmptyReason", "modelInfo", "recent", "counters", "workerPid", "index", "lastPrompts", "stats"]);
const RECENT_SHOWN = 10;

export interface ClientFacts {
  asOf: string; // when the figures were asked for, "18:07:01"
  completions: string; // "on", "off for Python", "snoozed until 14:35"
  server: string; // the command the extension started
  modelSize: string;
}

export function statusReport(answer: unknown, client: ClientFacts): string {
  const a = obj(answer);
  const info = obj(a.modelInfo);
  const counters = obj(a.counters);
  const index = obj(a.index);
  const parts = ["# Enclave status", `Figures as of ${escapeMarkdown(client.asOf)}.`];
  parts.push(table([
    ["State", a.state],
    ["Message", a.message !== a.state ? a.message : undefined],
    ["Model", typeof a.model === "string" && a.model ? baseName(a.model) : undefined],
    ["Architecture", info.architecture],
    ["Prompt template", info.template],
    ["Context length", num(info.context_length) !== undefined ? `${info.context_length} tokens` : undefined],
    ["Loaded in", ms(info.load_ms)],
    ["Model worker", num(a.workerPid) !== undefined ? `process ${a.workerPid}` : undefined],
    ["Last empty answer", a.lastEmptyReason],
  ]));
  parts.push("## This editor", table([
    ["Inline completions", client.completions],
    ["Model size setting", client.modelSize],
    ["Server", client.server],
  ]));
  const requests = num(counters.requests);
  const promptTokens = num(counters.promptTokens);
  const c = table([
    ["Requests", requests],
    ["Answered from the cache", share(num(counters.answeredFromCache), requests)],
    ["Answered from a prefetch", share(num(counters.answeredFromPrefetch), requests)],
    ["Model calls", num(counters.modelCalls)],
    ["Superseded by a newer request", num(counters.superseded)],
    ["Prompt tokens reused", share(num(counters.reusedTokens), promptTokens)],
    ["Prompt tokens evaluated", num(counters.evaluatedTokens)],
  ]);
  if (c) parts.push("## Completions since the server started", c);
  const recent = Array.isArray(a.recent) ? a.recent.map(obj) : [];
  if (recent.length) {
    const total = (r: Json): number =>
      (num(r.queued_ms) ?? 0) + (num(r.build_ms) ?? 0) + (num(r.prompt_ms) ?? 0) + (num(r.generate_ms) ?? 0);
    const rows = recent.slice(-RECENT_SHOWN).map((r) =>
      `| ${cell(r.kind)} | ${cell(r.generated_tokens)} | ${cell(r.stop_reason)} | ${cell(ms(r.queued_ms))} | ${cell(ms(r.prompt_ms))} | ${cell(ms(r.generate_ms))} |`,
    );
    parts.push(
      `## Recent generations (median ${ms(median(recent.map(total)))} over ${recent.length})`,
      ["| kind | tokens | stop | queued | prompt | generate |", "|---|---:|---|---:|---:|---:|", ...rows].join("\n"),
    );
  }
  const i = table([
    ["Files indexed", num(index.files)],
    ["Building", typeof index.building === "boolean" ? (index.building ? "yes" : "no") : undefined],
    ["Build time", ms(index.buildMs)],
    ["Recent chunks", num(index.recentChunks)],
  ]);
  if (i) parts.push("## Workspace index", i);
  parts.push(statsSections(a.stats));
  const other = Object.fromEntries(Object.entries(a).filter(([k]) => !KNOWN.has(k)));
  if (Object.keys(other).length) {
    parts.push("## Other figures", "```json\n" + JSON.stringify(other, null, 2).replace(/`/g, "'") + "\n```");
  }
  return parts.filter((p) => p).join("\n\n") + "\n";
}

// -- local statistics (enclave/getStatus "stats": lsp_server/stats.py) ----------------------

function percent(value: unknown): string {
  const n = num(value);
  return n === undefined ? "-" : `${(n * 100).toFixed(1)}%`;
}

function count(value: unknown): string {
  const n = num(value);
  return n === undefined ? "-" : String(n);
}

const STATS_HEAD = [
  "| language | shown | accepted | rate | characters suggested | characters accepted | p50 | p90 | from the caches |",
  "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
].join("\n");

function statsTable(languages: unknown): string {
  const rows = Object.entries(obj(languages)).map(([name, value]) => {
    const s = obj(value);
    const cells = [
      cell(name), count(s.shown), count(s.accepted), percent(s.acceptanceRate), count(s.charsSuggested),
      count(s.charsAccepted), ms(s.p50Ms) ?? "-", ms(s.p90Ms) ?? "-", percent(s.cacheShare),
    ];
    return `| ${cells.join(" | ")} |`;
  });
  return rows.length ? `${STATS_HEAD}\n${rows.join("\n")}` : "No suggestions yet.";
}

/** The statistics as Markdown sections: this session and all time, per language, or "off". */
export function statsSections(stats: unknown): string {
  const s = obj(stats);
  if (s.enabled === false) {
    return "## Local statistics\n\nLocal statistics are off (`enclave.stats.enabled`).";
  }
  if (typeof s.enabled !== "boolean") return "## Local statistics\n\nThis server keeps no local statistics.";
  const parts = [
    "## Local statistics: this session", statsTable(s.session),
    "## Local statistics: all time", statsTable(s.allTime),
    "Counts only, kept on this machine and never sent anywhere. Latency is the time to an answer; " +
      "\"from the caches\" is the share of answers typed through or prefetched rather than asked of the model.",
  ];
  if (typeof s.warning === "string" && s.warning) parts.push(`Warning: ${cell(s.warning)}`);
  return parts.join("\n\n");
}

/** The statistics page (the menu's "Statistics"). */
export function statsPage(answer: unknown, asOf: string): string {
  return ["# Enclave statistics", `Figures as of ${escapeMarkdown(asOf)}.`, statsSections(obj(answer).stats)].join("\n\n") + "\n";
}
