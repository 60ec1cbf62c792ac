// Pure formatting of the `enclave/status` notification for the status bar item.

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

const ICONS: Record<string, string> = {
  starting: "$(sync~spin)",
  loading: "$(sync~spin)",
  ready: "$(sparkle)",
  error: "$(error)",
  stopped: "$(debug-stop)",
  disabled: "$(circle-slash)",
};

const STATE_WORDS: Record<string, string> = {
  starting: "starting the server",
  loading: "loading the model",
  ready: "ready",
  error: "error",
  stopped: "stopped",
  disabled: "completions off",
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

export function formatStatus(
  status: ServerStatus | undefined,
  completionsEnabled: boolean,
): StatusView {
  const state = status?.state ?? "starting";
  const shownState = state === "ready" && !completionsEnabled ? "disabled" : state;
  const icon = ICONS[shownState] ?? "$(question)";
  const word = STATE_WORDS[shownState] ?? state;
  const lines = [`**Enclave**: ${escapeMarkdown(word)}`];
  const message = status?.message?.trim() ?? "";
  const newsInMessage = message !== "" && message.toLowerCase() !== state && message.toLowerCase() !== word;
  if (newsInMessage) lines.push(escapeMarkdown(message));
  const model = status?.model ? baseName(status.model) : "";
  if (model) lines.push(`Model: \`${model.replace(/`/g, "'")}\``);
  if (!completionsEnabled) lines.push("Inline completions are turned off.");
  if (status?.lastEmptyReason) {
    lines.push(`Last empty answer: ${escapeMarkdown(status.lastEmptyReason)}`);
  }
  lines.push("Click to show the log.");
  const level = state === "error" ? "error" : state === "stopped" ? "warning" : "normal";
  const accessibility = [
    `Enclave: ${word}`,
    model ? `model ${model}` : "",
    newsInMessage ? message : "",
    status?.lastEmptyReason,
  ]
    .filter((s) => s)
    .join(". ");
  return {
    text: `${icon} Enclave`,
    tooltip: lines.join("\n\n"),
    level,
    accessibility,
  };
}
