// Whether the extension asks for inline completions: the user's global switch (which the server
// also has), a per-language value of the same setting, and a snooze. No `vscode` import.
//
// `enclave.completion.enabled` is language-overridable. The server's switch is global: it gets
// the value without language overrides, and the extension itself asks for nothing in a language
// turned off. A language turned on under a global "off" stays off (the server answers nothing).
import type { Clock } from "./focus";
import type { Inspected } from "./settings";

export type Suppressed = "off" | "language" | "snoozed";

/** The languages Enclave serves (the server's grammars), by VS Code language id. */
export const LANGUAGES: readonly string[] = [
  "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
  "java", "c", "cpp", "lua", "shellscript",
];

export interface GateInput {
  globalEnabled: boolean; // enclave.completion.enabled without language overrides
  languageEnabled: boolean; // the same for the document's language
  snoozedUntil?: number; // epoch ms
  now: number;
}

/** Why no completion is asked for (undefined: ask). */
export function suppressed(input: GateInput): Suppressed | undefined {
  if (!input.globalEnabled) return "off";
  if (!input.languageEnabled) return "language";
  if (input.snoozedUntil !== undefined && input.snoozedUntil > input.now) return "snoozed";
  return undefined;
}

/**
 * A boolean setting's value for one language: its most specific language-specific value (a
 * "[python]" entry in a folder, the workspace, the user's settings, an extension's default),
 * else `fallback` (the value without language overrides).
 */
export function languageValue(inspected: Inspected | undefined, fallback: boolean): boolean {
  const i = inspected ?? {};
  for (const value of [
    i.workspaceFolderLanguageValue,
    i.workspaceLanguageValue,
    i.globalLanguageValue,
    i.defaultLanguageValue,
  ]) {
    if (typeof value === "boolean") return value;
  }
  return fallback;
}

export const SNOOZE_MINUTES: readonly number[] = [5, 15, 60];
export const MAX_SNOOZE_MINUTES = 24 * 60;

/** "09:05" (or "09:05:07"): local time of day, 24-hour (what the status item shows). */
export function clockTime(ms: number, seconds = false): string {
  const d = new Date(ms);
  const parts = [d.getHours(), d.getMinutes(), ...(seconds ? [d.getSeconds()] : [])];
  return parts.map((n) => String(n).padStart(2, "0")).join(":");
}

/**
 * A snooze: until a time, then over by itself (`changed` is called both times). A stored end
 * (from an earlier window) is taken back only if it is in the future and not absurdly far.
 */
export class Snooze {
  private end: number | undefined;
  private timer: unknown;

  constructor(
    private readonly changed: (until: number | undefined) => void,
    private readonly clock: Clock,
    private readonly now: () => number = Date.now,
  ) {}

  get until(): number | undefined {
    return this.end !== undefined && this.end > this.now() ? this.end : undefined;
  }

  snooze(minutes: number): number {
    const capped = Math.min(Math.max(minutes, 0), MAX_SNOOZE_MINUTES);
    this.set(this.now() + capped * 60_000);
    return this.end as number;
  }

  restore(until: unknown): void {
    const now = this.now();
    if (typeof until !== "number" || !Number.isFinite(until)) return;
    if (until <= now || until > now + MAX_SNOOZE_MINUTES * 60_000) return;
    this.set(until);
  }

  resume(): void {
    if (this.end === undefined) return;
    this.stop();
    this.changed(undefined);
  }

  dispose(): void {
    this.stop();
  }

  private set(end: number): void {
    this.stop();
    this.end = end;
    // One timer to the end (timers longer than 2^31 ms fire at once: the cap keeps it short).
    this.timer = this.clock.set(() => {
      this.timer = undefined;
      this.end = undefined;
      this.changed(undefined);
    }, end - this.now());
    this.changed(end);
  }

  private stop(): void {
    if (this.timer !== undefined) this.clock.clear(this.timer);
    this.timer = undefined;
    this.end = undefined;
  }
}

export type Target = "global" | "workspace" | "workspaceFolder";

/**
 * Where a change of a setting takes effect: the most specific place that holds a value (a
 * change in the user settings under a workspace value would change nothing), else the user's.
 * `language`: the language-specific values count (a "[python]" entry), the others not.
 */
export function updateTarget(inspected: Inspected | undefined, language: boolean): Target {
  const i = inspected ?? {};
  if (language) {
    if (i.workspaceFolderLanguageValue !== undefined) return "workspaceFolder";
    if (i.workspaceLanguageValue !== undefined) return "workspace";
    return "global";
  }
  if (i.workspaceFolderValue !== undefined) return "workspaceFolder";
  if (i.workspaceValue !== undefined) return "workspace";
  return "global";
}

const LANGUAGE_NAMES: Record<string, string> = {
  python: "Python",
  javascript: "JavaScript",
  javascriptreact: "JavaScript React",
  typescript: "TypeScript",
  typescriptreact: "TypeScript React",
  go: "Go",
  rust: "Rust",
  java: "Java",
  c: "C",
  cpp: "C++",
  lua: "Lua",
  shellscript: "Shell Script",
};

/** A language id as people write it ("Python"); an unknown id as it is. */
export function languageName(id: string): string {
  return LANGUAGE_NAMES[id] ?? id;
}
