// The status bar menu (a quick pick, as Copilot's and Tabby's): which entries, in which words,
// for the present state. No `vscode` import; extension.ts shows it and runs the choice.
import { SNOOZE_MINUTES } from "./gate";
import { MODEL_SIZES } from "./fetch";

export type MenuAction =
  | { kind: "toggle"; enable: boolean }
  | { kind: "language"; enable: boolean }
  | { kind: "snooze"; minutes: number }
  | { kind: "resume" }
  | { kind: "size"; size: string }
  | { kind: "fetch"; size: string }
  | { kind: "status" }
  | { kind: "stats" }
  | { kind: "log" }
  | { kind: "restart" }
  | { kind: "settings" };

export interface MenuEntry {
  label: string; // with a codicon
  description?: string;
  action?: MenuAction; // none: a separator
}

export interface MenuState {
  state: string; // the server's (or starting/stopped)
  model?: string; // the model file's name
  globalEnabled: boolean;
  language?: { id: string; name: string; enabled: boolean }; // the editor's, if Enclave's
  snoozedUntil?: string; // "14:35"
  modelSize: string; // enclave.model.size
  missingModel?: string; // the size the server says is missing
  fetching: boolean;
}

const SIZE_WORDS: Record<string, string> = { "1.5b": "better suggestions", "0.5b": "faster" };

export function menuEntries(s: MenuState): MenuEntry[] {
  const entries: MenuEntry[] = [];
  const add = (label: string, action?: MenuAction, description?: string): void => {
    entries.push({ label, action, description });
  };
  add("Completions");
  if (s.globalEnabled) add("$(circle-slash) Disable completions", { kind: "toggle", enable: false });
  else add("$(check) Enable completions", { kind: "toggle", enable: true });
  if (s.language && s.globalEnabled) {
    const { name, enabled } = s.language;
    if (enabled) add(`$(circle-slash) Disable completions for ${name}`, { kind: "language", enable: false });
    else add(`$(check) Enable completions for ${name}`, { kind: "language", enable: true });
  }
  if (s.snoozedUntil) {
    add("$(play) Resume completions", { kind: "resume" }, `snoozed until ${s.snoozedUntil}`);
  } else if (s.globalEnabled) {
    for (const minutes of SNOOZE_MINUTES) {
      add(`$(clock) Snooze for ${minutes} minutes`, { kind: "snooze", minutes });
    }
  }
  add("Model");
  if (s.missingModel && !s.fetching) {
    add(`$(cloud-download) Fetch the ${s.missingModel} model`, { kind: "fetch", size: s.missingModel }, "it is not on this machine yet");
  }
  for (const size of MODEL_SIZES) {
    if (size === s.modelSize) continue;
    add(`$(arrow-swap) Use the ${size} model`, { kind: "size", size }, `${SIZE_WORDS[size] ?? ""}; now ${s.modelSize}`);
  }
  add("Enclave");
  add("$(info) Show status", { kind: "status" }, [s.state, s.model].filter((x) => x).join(", "));
  add("$(graph) Statistics", { kind: "stats" }, "suggestions shown and accepted, per language");
  add("$(output) Open log", { kind: "log" });
  add("$(debug-restart) Restart server", { kind: "restart" });
  add("$(gear) Settings", { kind: "settings" });
  return entries;
}
