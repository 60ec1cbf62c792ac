import assert from "node:assert/strict";
import { test } from "node:test";
import type { Clock } from "../focus";
import {
  clockTime,
  languageName,
  LANGUAGES,
  languageValue,
  MAX_SNOOZE_MINUTES,
  Snooze,
  suppressed,
  updateTarget,
} from "../gate";
import type { Inspected } from "../settings";
import { random } from "./random";

test("off everywhere, then off for the language, then snoozed: in that order", () => {
  const now = 1_000_000;
  for (const globalEnabled of [true, false]) {
    for (const languageEnabled of [true, false]) {
      for (const snoozedUntil of [undefined, now - 1, now, now + 1]) {
        const got = suppressed({ globalEnabled, languageEnabled, snoozedUntil, now });
        const snoozed = snoozedUntil !== undefined && snoozedUntil > now;
        const want = !globalEnabled ? "off" : !languageEnabled ? "language" : snoozed ? "snoozed" : undefined;
        assert.equal(got, want, JSON.stringify({ globalEnabled, languageEnabled, snoozedUntil }));
      }
    }
  }
});

const LANGUAGE_PLACES = ["workspaceFolderLanguageValue", "workspaceLanguageValue", "globalLanguageValue", "defaultLanguageValue"] as const;
const PLACES = ["defaultValue", "globalValue", "workspaceValue", "workspaceFolderValue", ...LANGUAGE_PLACES] as const;

test("a language's value: the most specific language-specific one, else the global (generated)", () => {
  const r = random(11);
  for (let n = 0; n < 2000; n++) {
    const inspected: Record<string, unknown> = {};
    for (const place of PLACES) {
      const v = r.pick([undefined, undefined, true, false, "false", 0]);
      if (v !== undefined) inspected[place] = v;
    }
    const fallback = r.int(2) === 1;
    // Reference: VS Code's order of language overrides, folder first; non-booleans ignored.
    const first = LANGUAGE_PLACES.map((p) => inspected[p]).find((v) => typeof v === "boolean");
    assert.equal(languageValue(inspected as Inspected, fallback), first ?? fallback, JSON.stringify(inspected));
  }
  assert.equal(languageValue(undefined, true), true);
});

test("a change goes where the value that counts is, else to the user's settings", () => {
  assert.equal(updateTarget(undefined, false), "global");
  assert.equal(updateTarget({ globalValue: false }, false), "global");
  assert.equal(updateTarget({ workspaceValue: false }, false), "workspace");
  assert.equal(updateTarget({ workspaceValue: true, workspaceFolderValue: false }, false), "workspaceFolder");
  // A language's entry: only language-specific values count, and the other way round.
  assert.equal(updateTarget({ workspaceValue: false }, true), "global");
  assert.equal(updateTarget({ workspaceLanguageValue: false }, true), "workspace");
  assert.equal(updateTarget({ workspaceFolderLanguageValue: false, workspaceLanguageValue: true }, true), "workspaceFolder");
  assert.equal(updateTarget({ workspaceLanguageValue: false }, false), "global");
});

/** A clock whose time the test moves. */
class FakeClock implements Clock {
  now = 10 * 60_000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 0;
  set(fn: () => void, ms: number): unknown {
    const id = ++this.next;
    this.timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clear(timer: unknown): void {
    this.timers.delete(timer as number);
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.timers]) {
      if (t.at <= this.now) {
        this.timers.delete(id);
        t.fn();
      }
    }
  }
  get pending(): number {
    return this.timers.size;
  }
}

test("a snooze ends by itself at its time, and says so both times", () => {
  const clock = new FakeClock();
  const heard: (number | undefined)[] = [];
  const snooze = new Snooze((u) => heard.push(u), clock, () => clock.now);
  const end = snooze.snooze(5);
  assert.equal(end, clock.now + 5 * 60_000);
  assert.equal(snooze.until, end);
  clock.advance(5 * 60_000 - 1);
  assert.equal(snooze.until, end);
  clock.advance(1);
  assert.equal(snooze.until, undefined);
  assert.deepEqual(heard, [end, undefined]);
  assert.equal(clock.pending, 0);
});

test("snoozing again replaces the end; resume ends it at once; no timer is left", () => {
  const clock = new FakeClock();
  const heard: (number | undefined)[] = [];
  const snooze = new Snooze((u) => heard.push(u), clock, () => clock.now);
  snooze.snooze(60);
  const second = snooze.snooze(5);
  assert.equal(clock.pending, 1);
  snooze.resume();
  assert.equal(snooze.until, undefined);
  assert.equal(clock.pending, 0);
  snooze.resume(); // nothing to resume: nothing said
  assert.deepEqual(heard.slice(1), [second, undefined]);
  clock.advance(2 * 60 * 60_000);
  assert.equal(heard.length, 3);
});

test("a stored end is taken back only when it is a time in the near future", () => {
  const clock = new FakeClock();
  const snooze = new Snooze(() => {}, clock, () => clock.now);
  for (const bad of [undefined, null, "soon", Number.NaN, Infinity, clock.now, clock.now - 1, clock.now + MAX_SNOOZE_MINUTES * 60_000 + 1, { until: 1 }]) {
    snooze.restore(bad);
    assert.equal(snooze.until, undefined, String(bad));
  }
  snooze.restore(clock.now + 60_000);
  assert.equal(snooze.until, clock.now + 60_000);
  assert.equal(snooze.snooze(1e9), clock.now + MAX_SNOOZE_MINUTES * 60_000); // capped
  assert.equal(snooze.snooze(-5), clock.now); // a negative snooze is none
  assert.equal(snooze.until, undefined);
});

test("clock times and language names", () => {
  const d = new Date(2026, 0, 2, 9, 5);
  assert.equal(clockTime(d.getTime()), "09:05");
  assert.equal(clockTime(new Date(2026, 0, 2, 23, 59, 7).getTime()), "23:59");
  assert.equal(clockTime(new Date(2026, 0, 2, 23, 59, 7).getTime(), true), "23:59:07");
  for (const id of LANGUAGES) assert.notEqual(languageName(id), "", id);
  assert.equal(languageName("python"), "Python");
  assert.equal(languageName("cpp"), "C++");
  assert.equal(languageName("brainfuck"), "brainfuck");
});
