// Pure formatting of the `enclave/status` notification for the status bar item, with what the
// extension adds: completions off (everywhere or for the editor's language) or snoozed.
import type { Suppressed } from "./gate";

export interface ServerStatus {
  state: string; // loading | ready | error | disabled | stopped, or the client's own: starting
  message?: string;
  model?: string;
  lastEmptyReason?: string;
}

export interface StatusView {
  text: string; // with a codicon, e.g. "$(sync~spin) Enclave"
  tooltip: string; // Markdown (untrusted: no commands, no HTML)
  level: "normal" | "warning" | "error";
  accessibility: string;
}

/** What the extension knows besides the server's status. */
export interface ClientView {
  suppressed?: Suppressed;
  language?: string; // the editor's language, as people write it ("Python")
  snoozedUntil?: string; // "14:35"
}

const ICONS: Record<string, string> = {
  starting: "$(sync~spin)",
  loading: "$(sync~spin)",
  ready: "$(sparkle)",
  error: "$(error)",
  stopped: "$(debug-stop)",
  disabled: "$(circle-slash)",
  off: "$(circle-slash)",
  language: "$(circle-slash)",
  snoozed: "$(clock)",
};

const STATE_WORDS: Record<string, string> = {
  starting: "starting the server",
  loading: "loading the model",
  ready: "ready",
  error: "error",
  stopped: "stopped",
  disabled: "completions off",
  off: "completions off",
};

/** Escape Markdown's special characters so server text shows as it is. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => "\\" + c);
}

/** The last path segment (a model file name), either separator. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter((p) => p !== "");
  return parts.length ? parts[parts.length - 1] : path;
}

function words(state: string, view: ClientView): string {
  if (state === "language") return `completions off for ${view.language ?? "this language"}`;
  if (state === "snoozed") return `snoozed until ${view.snoozedUntil ?? "later"}`;
  return STATE_WORDS[state] ?? state;
}

/** What the extension stops, said in the tooltip whatever the server's state (plain text). */
function suppressedLine(view: ClientView): string {
  if (view.suppressed === "off") return "Inline completions are turned off.";
  if (view.suppressed === "language") {
    return `Inline completions are turned off for ${view.language ?? "this language"}.`;
  }
  if (view.suppressed === "snoozed") {
    return `Inline completions are snoozed until ${view.snoozedUntil ?? "later"}.`;
  }
  return "";
}

/** The same in Markdown: the names in it escaped. */
function suppressedMarkdown(view: ClientView): string {
  return suppressedLine({
    ...view,
    language: view.language && escapeMarkdown(view.language),
    snoozedUntil: view.snoozedUntil && escapeMarkdown(view.snoozedUntil),
  });
}

export function formatStatus(status: ServerStatus | undefined, view: ClientView = {}): StatusView {
  const state = status?.state ?? "starting";
  // The server's problems come first; when it is ready, what the extension stops.
  const shownState = state === "ready" && view.suppressed ? view.suppressed : state;
  const icon = ICONS[shownState] ?? "$(question)";
  const word = words(shownState, view);
  const lines = [`**Enclave**: ${escapeMarkdown(word)}`];
  const message = status?.message?.trim() ?? "";
  const newsInMessage =
    message !== "" && message.toLowerCase() !== state && message.toLowerCase() !== word;
  if (newsInMessage) lines.push(escapeMarkdown(message));
  const model = status?.model ? baseName(status.model) : "";
  if (model) lines.push(`Model: \`${model.replace(/`/g, "'")}\``);
  const stopped = suppressedLine(view);
  if (stopped) lines.push(suppressedMarkdown(view));
  if (status?.lastEmptyReason) {
    lines.push(`Last empty answer: ${escapeMarkdown(status.lastEmptyReason)}`);
  }
  lines.push("Click for the Enclave menu.");
  const level = state === "error" ? "error" : state === "stopped" ? "warning" : "normal";
  const accessibility = [
    `Enclave: ${word}`,
    model ? `model ${model}` : "",
    newsInMessage ? message : "",
    shownState === state ? stopped : "",
    status?.lastEmptyReason,
  ]
    .filter((s) => s)
    .join(". ");
  // The status bar says in words what is not the usual (off, snoozed until when).
  const short = shownState === state ? "" : ` ${word.replace(/^completions /, "")}`;
  return {
    text: `${icon} Enclave${short}`,
    tooltip: lines.join("\n\n"),
    level,
    accessibility,
  };
}
