import assert from "node:assert/strict";
import { test } from "node:test";
import { MODEL_SIZES } from "../fetch";
import { SNOOZE_MINUTES } from "../gate";
import { MenuState, menuEntries } from "../menu";
import { random } from "./random";

function state(r: ReturnType<typeof random>): MenuState {
  const enabledHere = r.int(2) === 1;
  return {
    state: r.pick(["starting", "loading", "ready", "error", "stopped"]),
    model: r.pick([undefined, "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"]),
    globalEnabled: r.int(2) === 1,
    language: r.pick([undefined, { id: "python", name: "Python", enabled: enabledHere }]),
    snoozedUntil: r.pick([undefined, "14:35"]),
    modelSize: r.pick(MODEL_SIZES),
    missingModel: r.pick([undefined, ...MODEL_SIZES]),
    fetching: r.int(2) === 1,
  };
}

test("every state gets the entries that make sense in it, and only those (generated)", () => {
  const r = random(31);
  for (let n = 0; n < 1000; n++) {
    const s = state(r);
    const entries = menuEntries(s);
    const kinds = entries.flatMap((e) => (e.action ? [e.action] : []));
    const why = JSON.stringify(s);
    const toggles = kinds.filter((a) => a.kind === "toggle");
    assert.deepEqual(toggles, [{ kind: "toggle", enable: !s.globalEnabled }], why);
    const language = kinds.filter((a) => a.kind === "language");
    // Per language only under a global "on" (a language cannot be on while all is off).
    const wantLanguage = s.language && s.globalEnabled ? [{ kind: "language", enable: !s.language.enabled }] : [];
    assert.deepEqual(language, wantLanguage, why);
    const snoozes = kinds.filter((a) => a.kind === "snooze").map((a) => (a.kind === "snooze" ? a.minutes : 0));
    assert.deepEqual(snoozes, s.snoozedUntil || !s.globalEnabled ? [] : SNOOZE_MINUTES, why);
    assert.equal(kinds.some((a) => a.kind === "resume"), Boolean(s.snoozedUntil), why);
    const fetches = kinds.filter((a) => a.kind === "fetch");
    assert.deepEqual(fetches, s.missingModel && !s.fetching ? [{ kind: "fetch", size: s.missingModel }] : [], why);
    const sizes = kinds.filter((a) => a.kind === "size").map((a) => (a.kind === "size" ? a.size : ""));
    assert.deepEqual(sizes, MODEL_SIZES.filter((x) => x !== s.modelSize), why);
    for (const kind of ["status", "stats", "log", "restart", "settings"]) {
      assert.equal(kinds.filter((a) => a.kind === kind).length, 1, `${kind} ${why}`);
    }
    // Sections: separators have no action and never come twice in a row.
    for (let i = 1; i < entries.length; i++) assert.ok(entries[i].action || entries[i - 1].action, why);
    assert.equal(new Set(entries.map((e) => e.label)).size, entries.length, why);
  }
});

test("the words a user reads", () => {
  const labels = menuEntries({
    state: "ready",
    model: "qwen.gguf",
    globalEnabled: true,
    language: { id: "python", name: "Python", enabled: true },
    modelSize: "1.5b",
    fetching: false,
  }).map((e) => `${e.label}${e.description ? ` (${e.description})` : ""}`);
  assert.deepEqual(labels, [
    "Completions",
    "$(circle-slash) Disable completions",
    "$(circle-slash) Disable completions for Python",
    "$(clock) Snooze for 5 minutes",
    "$(clock) Snooze for 15 minutes",
    "$(clock) Snooze for 60 minutes",
    "Model",
    "$(arrow-swap) Use the 0.5b model (faster; now 1.5b)",
    "Enclave",
    "$(info) Show status (ready, qwen.gguf)",
    "$(graph) Statistics (suggestions shown and accepted, per language)",
    "$(output) Open log",
    "$(debug-restart) Restart server",
    "$(gear) Settings",
  ]);
});
