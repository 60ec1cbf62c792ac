#!/usr/bin/env node
// The real-editor test: code-server (VS Code 1.100.3) with the packaged extension and the real
// Enclave server and default model (1.5B), driven by Playwright with Debian's chromium, as a
// user works. The workspace's .vscode/settings.json sets every user-only setting to something
// hostile (a trap backend, a file that is not a model, a log file and a server script inside
// the workspace); none of it may take effect.
//   Session 1, workspace trust on and the folder trusted: status ready with the bundled model;
//   ghost text, Alt+] shows the server's next suggestion (an alternative) and Alt+[ the first
//   again, Tab accepts it (the saved file has it) and the menu's Statistics shows one
//   acceptance in Python with the characters inserted; Explain Selection opens a Markdown
//   preview with the explanation's text; a refactor from the light bulb menu (Ctrl+.) adds a
//   docstring (the file still parses); Review File puts findings in the Problems view.
//   Then the status bar menu: completions off (the item says off; a request gives no ghost
//   text), snooze (the item says until when), off for Python (a Python file gets no request,
//   a JavaScript file gets ghost text; Ctrl+Right accepts a word of it, and Statistics shows
//   one acceptance of the word's characters), counted by the server's own figures on the
//   "Show status" page.
//   Session 2, the folder not trusted (Restricted Mode): status ready with the bundled model and
//   ghost text, the same hostile settings changing nothing. Its extension host checks API
//   proposals as stable VS Code does (code-server's lets every extension use them): the
//   partial-accept hook is refused, the ghost text still comes, the log says so once.
//   Session 3, a server advertising the extension's own command names: it starts anyway.
//   Session 4, an empty model cache (XDG_CACHE_HOME): the status says the model is missing, a
//   notification offers the fetch; the fetch (a stand-in replaying the real command's output,
//   e2e/fake_fetch.py) shows its progress, is cancelled, is run again from the menu and the
//   server restarts ready; Show status, Open log and the model size switch from the menu.
// Evidence in .e2e/: screenshots, the extension's output channel and the server's log (its
// log.file is set in the USER settings) per session, code-server's logs. Exit status 1 when
// anything failed; the closing line counts passed, failed and skipped (a skip is a failure).
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Editor, newestFile, openCodeServer, Report, trap } from "./lib.mjs";
import { ACCEPT_LINE_KEY, checkAccepted, missingModelChecks, missingModelSetup, statusMenuChecks } from "./menu.mjs";

const EXT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(EXT_DIR, ".e2e");
const SHOTS = join(OUT, "screenshots");
const LOGS = join(OUT, "logs");
const CODE_SERVER = join(OUT, "code-server", "out", "node", "entry.js");
const VSIX = join(EXT_DIR, "enclave.vsix");
const ENCLAVE = process.env.ENCLAVE ?? resolve(EXT_DIR, "..", "..", ".venv", "bin", "enclave");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const MODEL_SIZE = process.env.ENCLAVE_E2E_MODEL ?? "1.5b";
const MODEL_NAME = `qwen2.5-coder-${MODEL_SIZE}`;
const SLOW = 420000; // one model answer on 2 busy cores
const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "enclave");
const EXPLANATIONS = join(CACHE, "explanations");
const MODELS = process.env.ENCLAVE_CACHE_DIR ? join(process.env.ENCLAVE_CACHE_DIR, "models") : join(CACHE, "models");
// The README's image: the ghost text in the real editor (copied to images/ when it changes).
const README_IMAGE = join(OUT, "readme", "screenshot.png");

const SHAPES = `import math


def circle_area(radius):
    """Return the area of a circle with the given radius."""
    return math.pi * radius ** 2


def scale(values, factor):
    result = []
    for value in values:
        result.append(value * factor)
    return result


def rectangle_area(width, height):
    """Return the area of a rectangle."""
`;
const SCALE_LINE = SHAPES.split("\n").indexOf("def scale(values, factor):") + 1;

// A plain bug for Review File: user input goes to eval. (The 1.5B, asked with a bare JSON array
// schema, reports it with an exact quote; an off-by-one loop it did not.)
const CALC = `def calculate(expression):
    """Evaluate an arithmetic expression typed by the user."""
    return eval(expression)
`;

// Where the menu's switches are tried: a Python file and a JavaScript one.
const NOTES = `def triangle_area(base, height):
    """Return the area of a triangle."""
`;
const SHAPES_JS = `function circleArea(radius) {
  return Math.PI * radius * radius;
}

function rectangleArea(width, height) {
`;

// Accept Line: a body begun with a list to fill is likely to get a suggestion of several lines.
const SHAPES_TS = `interface Box {
  width: number;
  height: number;
}

export function describe(box: Box): string {
  const lines: string[] = [];
`;

const report = new Report();
const CLASH_LOG = join(LOGS, "clash-commands.jsonl");

for (const [what, file] of [["code-server", CODE_SERVER], ["the .vsix", VSIX], ["the enclave server", ENCLAVE], ["chromium", CHROMIUM]]) {
  if (!existsSync(file)) {
    console.error(`missing ${what}: ${file} (run: make -C editor-clients/vscode e2e)`);
    process.exit(2);
  }
}
rmSync(SHOTS, { recursive: true, force: true });
rmSync(LOGS, { recursive: true, force: true });
mkdirSync(SHOTS, { recursive: true });
mkdirSync(LOGS, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), "enclave-e2e-"));
const traps = await trap();

/** A workspace whose .vscode/settings.json sets every user-only setting to something hostile. */
function hostileWorkspace(name) {
  const ws = join(tmp, name);
  mkdirSync(join(ws, ".vscode"), { recursive: true });
  writeFileSync(join(ws, "shapes.py"), SHAPES);
  writeFileSync(join(ws, "calc.py"), CALC);
  writeFileSync(join(ws, "notes.py"), NOTES);
  writeFileSync(join(ws, "shapes.js"), SHAPES_JS);
  writeFileSync(join(ws, "shapes.ts"), SHAPES_TS);
  writeFileSync(join(ws, "not-a-model.gguf"), "this is not a model\n");
  const marker = join(ws, "server-script-ran");
  const script = join(ws, "evil-server.sh");
  writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\nexec '${ENCLAVE}' "$@"\n`);
  chmodSync(script, 0o755);
  const hostile = {
    "enclave.backend.kind": "llama-server",
    "enclave.backend.url": `http://127.0.0.1:${traps.port}`,
    "enclave.backend.allowHosts": ["127.0.0.1", "trap.example"],
    "enclave.backend.model": "trap-model",
    "enclave.model.path": join(ws, "not-a-model.gguf"),
    "enclave.log.file": join(ws, "enclave-from-workspace.log"),
    "enclave.server.path": script,
    "enclave.server.args": ["serve"],
  };
  writeFileSync(join(ws, ".vscode", "settings.json"), JSON.stringify({ ...hostile, "[python]": hostile }, null, 2));
  return { ws, marker, workspaceLog: hostile["enclave.log.file"], hostile };
}

/** User settings: the real server, the default model, a server log under .e2e/, trust on. */
function userSettings(dir, serverLog, extra) {
  mkdirSync(join(dir, "User"), { recursive: true });
  const settings = {
    "enclave.server.path": ENCLAVE,
    "enclave.model.size": MODEL_SIZE,
    "enclave.log.file": serverLog,
    "enclave.log.level": "debug",
    // The test is about the editor, not latency: the 1.5B on 2 shared cores may be slow.
    "enclave.completion.deadlineMs": 180000,
    // The browser, code-server and the server share the cores with the model: with a thread
    // per core, generation on a loaded machine fell to 0.6 tokens/s (threads wait for each
    // other), with one thread it made 3.2 (measured here, load 9 on 2 cores).
    "enclave.model.threads": Number(process.env.ENCLAVE_E2E_THREADS ?? 1),
    "enclave.trace.server": process.env.ENCLAVE_E2E_TRACE ? "verbose" : "messages",
    "security.workspace.trust.enabled": true,
    "security.workspace.trust.startupPrompt": "always",
    "security.workspace.trust.untrustedFiles": "open",
    "editor.inlineSuggest.enabled": true,
    "editor.minimap.enabled": false,
    "editor.quickSuggestions": { other: false, comments: false, strings: false },
    "editor.lightbulb.enabled": "on",
    "markdown.preview.typographer": false,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.enableExperiments": false,
    "telemetry.telemetryLevel": "off",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "update.mode": "none",
    "git.enabled": false,
    "chat.commandCenter.enabled": false,
    "window.commandCenter": false,
    ...extra,
  };
  writeFileSync(join(dir, "User", "settings.json"), JSON.stringify(settings, null, 2));
  const acceptLine = { key: ACCEPT_LINE_KEY.toLowerCase(), command: "editor.action.inlineSuggest.acceptNextLine", when: "inlineSuggestionVisible && !editorReadonly" };
  writeFileSync(join(dir, "User", "keybindings.json"), JSON.stringify([acceptLine], null, 2));
}

/** Answer the workspace trust dialog as a user would. */
async function answerTrust(page, trust) {
  const button = page.getByRole("button", { name: trust ? /Yes, I trust/ : /No, I don.t trust/ });
  await button.first().waitFor({ timeout: 60000 });
  await button.first().click();
}

function normalise(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();
}

/** What the hostile settings must not have done, checked after a session. */
function checkNothingTaken(label, w, serverLog) {
  if (traps.connections.length) {
    report.fail(`${label}: no connection reaches the trap backend`, JSON.stringify(traps.connections));
  } else report.ok(`${label}: no connection reaches the trap backend`, `127.0.0.1:${traps.port}`);
  if (existsSync(w.marker)) report.fail(`${label}: the workspace's server script never ran`, w.marker);
  else report.ok(`${label}: the workspace's server script never ran`);
  if (existsSync(w.workspaceLog)) report.fail(`${label}: no log file in the workspace`, w.workspaceLog);
  else report.ok(`${label}: no log file in the workspace`);
  const log = existsSync(serverLog) ? readFileSync(serverLog, "utf8") : "";
  if (!log) report.fail(`${label}: the server logs to the USER's log.file`, `${serverLog} missing or empty`);
  else if (/not-a-model|trap-model|llama-server/.test(log)) {
    report.fail(`${label}: the server log names no workspace value`, serverLog);
  } else report.ok(`${label}: the server logs to the USER's log.file, naming no workspace value`, `${serverLog} (${log.length} bytes)`);
}

/** Keep the extension's output channel of a session beside the server log. */
function keepExtensionLog(logsDir, name) {
  const file = newestFile(logsDir, /Enclave\.log$/);
  if (!file) {
    report.fail(`${name}: the extension's output channel log is kept`, `none under ${logsDir}`);
    return "";
  }
  const kept = join(LOGS, `${name}-extension.log`);
  copyFileSync(file, kept);
  return readFileSync(kept, "utf8");
}

function checkStartedUsersServer(name, extensionLog) {
  const started = /Starting (\S+) serve/.exec(extensionLog);
  if (!started || started[1] !== ENCLAVE) {
    report.fail(`${name}: the extension started the USER's server.path`, started ? started[0] : "no 'Starting' line");
  } else report.ok(`${name}: the extension started the USER's server.path`, started[0]);
}

/** One code-server session in a hostile workspace; `user` adds to the user settings. */
async function withSession(name, { trust, user = {}, hostileChecks = true, env, stockProposals }, body) {
  const w = hostileWorkspace(`ws-${name}`);
  const userData = join(tmp, `user-data-${name}`);
  const serverLog = join(LOGS, `${name}-server.log`);
  userSettings(userData, serverLog, user);
  const logsTo = join(LOGS, `${name}-code-server-logs`);
  let session;
  const editor = { shot: async () => undefined };
  try {
    session = await openCodeServer({
      codeServer: CODE_SERVER,
      vsix: VSIX,
      chromiumPath: CHROMIUM,
      userData,
      extensions: join(tmp, `extensions-${name}`),
      workspace: w.ws,
      logFile: join(LOGS, `${name}-code-server.log`),
      logsTo,
      trace: Boolean(process.env.ENCLAVE_E2E_TRACE),
      env,
      stockProposals,
    });
    const ed = new Editor(session.page, SHOTS);
    editor.shot = (n) => ed.shot(`${name}-${n}`);
    await answerTrust(session.page, trust);
    report.ok(`${name}: code-server opened the folder`, trust ? "trusted" : "not trusted (Restricted Mode)");
    await body(ed, w, (n) => editor.shot(n), userData);
  } catch (err) {
    report.fail(`${name}: session`, err instanceof Error ? err.message.split("\n")[0] : String(err));
    console.log(`     screenshot ${await editor.shot("failure.png")}`);
  } finally {
    await session?.close();
  }
  const extensionLog = keepExtensionLog(logsTo, name);
  if (!hostileChecks) return extensionLog;
  checkStartedUsersServer(name, extensionLog);
  checkNothingTaken(name, w, serverLog);
  return extensionLog;
}

/** Status ready, with the bundled model's name (tooltip and accessible label). */
async function checkReady(ed, name, model = MODEL_NAME) {
  await ed.open("shapes.py", "rectangle_area"); // the extension starts with a Python file
  const label = await ed.waitSettled(300000);
  if (!/ready/.test(label)) throw new Error(`the status bar never said ready: "${label}"`);
  const tooltip = await ed.tooltip();
  if (!label.includes(model) || !tooltip.includes(model)) {
    throw new Error(`the status does not name ${model}: "${label}" / "${tooltip}"`);
  }
  report.ok(`${name}: status bar says ready with the model`, label);
}

async function ghostText(ed, name, shot, accept) {
  const { page } = ed;
  await ed.open("shapes.py", "rectangle_area");
  await page.locator(".monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+End");
  const ghost = (await ed.ghostAfterTyping("    return ", SLOW)).trim();
  await shot("ghost-text.png");
  if (accept) {
    mkdirSync(dirname(README_IMAGE), { recursive: true });
    await page.screenshot({ path: README_IMAGE });
  }
  if (!ghost) throw new Error("the ghost text is empty");
  report.ok(`${name}: ghost text shown`, JSON.stringify(ghost));
  if (!accept) return;
  // Alt+] asks the server again (an invoked request) and shows its next item, an alternative
  // from the same prompt; Alt+[ comes back to the first, which Tab then accepts.
  const shown = await ed.ghostNow();
  const next = await ed.ghostChangesOn("Alt+BracketRight", shown, SLOW);
  await shot("next-suggestion.png");
  report.ok(`${name}: Alt+] shows the server's next suggestion`, JSON.stringify(next.trim()));
  const back = await ed.ghostChangesOn("Alt+BracketLeft", next, 30000);
  if (back !== shown) throw new Error(`Alt+[ did not come back to the first: ${JSON.stringify(back)}`);
  report.ok(`${name}: Alt+[ comes back to the first`);
  await page.keyboard.press("Tab");
  await page.waitForTimeout(500);
  await page.keyboard.press("Control+S");
  return ghost;
}

async function acceptedIsSaved(ed, w, ghost, shot) {
  const path = join(w.ws, "shapes.py");
  const first = ghost.split("\n")[0].trim();
  const end = Date.now() + 15000;
  let saved = readFileSync(path, "utf8");
  while (!saved.includes(first) && Date.now() < end) {
    await ed.page.waitForTimeout(250);
    saved = readFileSync(path, "utf8");
  }
  const last = saved.trimEnd().split("\n").pop() ?? "";
  await shot("accepted.png");
  if (!last.startsWith("    return ") || !last.includes(first)) {
    throw new Error(`Tab did not accept the suggestion; the file ends with ${JSON.stringify(last)}`);
  }
  report.ok("trusted: Tab accepted it; the saved file has it", JSON.stringify(last));
  // What Tab inserted: the file as written, the typed prefix, then the suggestion.
  const typed = SHAPES + "    return ";
  if (!saved.startsWith(typed)) throw new Error(`the saved file does not start with what was typed: ${JSON.stringify(saved.slice(-200))}`);
  return saved.slice(typed.length);
}

async function explain(ed, shot) {
  const { page } = ed;
  await ed.open("shapes.py", "rectangle_area");
  await ed.goToLine(4);
  for (let i = 0; i < 3; i++) await page.keyboard.press("Shift+ArrowDown");
  const since = Date.now();
  await ed.command("Enclave: Explain Selection");
  await page.locator(".tab", { hasText: /Preview .*shapes/ }).first().waitFor({ timeout: SLOW });
  await page.waitForTimeout(3000);
  await shot("explain.png");
  const file = newestFile(EXPLANATIONS, /^shapes-.*\.md$/);
  if (!file || statSync(file).mtimeMs < since - 1000) throw new Error(`no new explanation in ${EXPLANATIONS}`);
  const markdown = readFileSync(file, "utf8");
  // A line of prose from the explanation, as the preview renders it.
  const prose = markdown
    .split("\n")
    .filter((l) => !/^\s*(#|_\(cut short)/.test(l))
    .map(normalise)
    .filter((l) => l.split(" ").length >= 5);
  if (!prose.length) throw new Error(`the explanation has no prose: ${JSON.stringify(markdown.slice(0, 300))}`);
  const frames = (await ed.framesWith("Explanation")).map(normalise);
  const probe = prose[0].split(" ").slice(0, 8).join(" ");
  if (!frames.some((t) => t.includes(probe))) {
    throw new Error(`the preview does not show the explanation ("${probe}"); frames: ${JSON.stringify(frames.map((t) => t.slice(0, 200)))}`);
  }
  report.ok("trusted: Explain Selection opens a Markdown preview with the explanation", `"${probe}…"`);
}

/** Choose "Enclave: Add docstring" in the light bulb's menu on `def scale`; the file after. */
async function docstringFromLightBulb(ed, path, before, shot) {
  const { page } = ed;
  await ed.open("shapes.py", "rectangle_area");
  await ed.goToLine(SCALE_LINE);
  await page.keyboard.press("Control+."); // the light bulb's menu (editor.action.quickFix)
  await page.locator(".action-widget").first().waitFor({ timeout: 60000 });
  await shot("lightbulb-menu.png");
  await ed.chooseAction("Enclave: Add docstring");
  // codeAction/resolve runs the model; the edit arrives in the editor (then saved), or the
  // server says why there is none.
  const refused = page.locator(".notification-toast", { hasText: "no change offered" });
  const end = Date.now() + SLOW;
  let after = before;
  while (after === before && Date.now() < end) {
    if (await refused.first().isVisible()) {
      const why = (await refused.first().innerText()).split("\n")[0];
      await page.keyboard.press("Escape");
      return { after, why };
    }
    await page.keyboard.press("Control+S");
    await page.waitForTimeout(2000);
    after = readFileSync(path, "utf8");
  }
  return { after, why: after === before ? "nothing changed in time" : "" };
}

async function lightBulbRefactor(ed, w, shot) {
  const path = join(w.ws, "shapes.py");
  const before = readFileSync(path, "utf8");
  // A user whose action timed out on a busy machine chooses it again: twice at most.
  let { after, why } = await docstringFromLightBulb(ed, path, before, shot);
  if (after === before) {
    report.step("trusted: first docstring attempt", "warn", why);
    ({ after, why } = await docstringFromLightBulb(ed, path, before, shot));
  }
  await shot("refactor.png");
  if (after === before) throw new Error(`the docstring action changed nothing: ${why}`);
  const check = spawnSync("python3", ["-c", [
    "import ast, sys",
    "tree = ast.parse(open(sys.argv[1]).read())",
    "funcs = {f.name: f for f in tree.body if isinstance(f, ast.FunctionDef)}",
    "doc = ast.get_docstring(funcs['scale'])",
    "assert doc, 'scale has no docstring'",
    "assert ast.get_docstring(funcs['circle_area']).startswith('Return the area of a circle')",
    "print(doc.splitlines()[0])",
  ].join("\n"), path], { encoding: "utf8" });
  if (check.status !== 0) throw new Error(`after the refactor: ${check.stderr.trim().split("\n").pop()}\n${after}`);
  report.ok("trusted: the light bulb's 'Enclave: Add docstring' adds a docstring; the file parses", JSON.stringify(check.stdout.trim()));
}

/** Review File on `file`: its findings are read in the Problems view. */
async function review(ed, shot, name, file, expectText) {
  const { page } = ed;
  await ed.open(file, expectText);
  await ed.command("Enclave: Review File");
  const done = page.locator(".notification-toast", { hasText: "Enclave review:" });
  await done.first().waitFor({ timeout: SLOW });
  const message = (await done.first().innerText()).split("\n")[0];
  await ed.command("View: Focus Problems");
  const row = page.locator(".markers-panel .monaco-list-row", { hasText: "enclave" });
  await row.first().waitFor({ timeout: 20000 }).catch(() => {});
  await shot("review-problems.png");
  const rows = await row.allInnerTexts();
  if (/no findings/.test(message) || rows.length === 0) {
    throw new Error(`Review File: "${message}"; no Enclave row in the Problems view`);
  }
  report.ok(`${name}: Review File puts findings in the Problems view`, `${message}; first row: ${JSON.stringify(rows[0].replace(/\s+/g, " "))}`);
}

/**
 * A server that advertises the extension's own enclave.refactor and enclave.explainSelection
 * (e2e/clashing_server.py): the extension starts anyway, says what it did not register, and
 * its own "Enclave: Refactor..." still runs the extension's command, not the server's.
 */
async function clashSession() {
  const python = join(dirname(ENCLAVE), "python");
  const stub = join(EXT_DIR, "e2e", "clashing_server.py");
  process.env.ENCLAVE_CLASH_LOG = CLASH_LOG;
  const user = { "enclave.server.path": python, "enclave.server.args": [stub] };
  const log = await withSession("clash", { trust: true, user, hostileChecks: false }, async (ed, _w, shot) => {
    await checkReady(ed, "clash", "clash-stub");
    await ed.command("Enclave: Refactor...");
    const own = ed.page.locator(".notification-toast", { hasText: "Enclave has no actions for this selection" });
    await own.first().waitFor({ timeout: 30000 });
    await shot("own-refactor.png");
    report.ok("clash: 'Enclave: Refactor...' runs the extension's own command");
    await review(ed, shot, "clash (a stand-in's fixed finding)", "shapes.py", "rectangle_area");
  });
  const calls = existsSync(CLASH_LOG) ? readFileSync(CLASH_LOG, "utf8") : "";
  if (calls.includes("enclave.refactor")) report.fail("clash: the server's enclave.refactor was never run", calls);
  else report.ok("clash: the server's enclave.refactor was never run");
  const said = ["enclave.refactor", "enclave.explainSelection"].every((id) =>
    log.includes(`Not registering the server's command "${id}"`),
  );
  if (said) report.ok("clash: the extension's log names the commands it did not register");
  else report.fail("clash: the extension's log names the commands it did not register", log.slice(-800));
}

/**
 * In the session whose editor refuses undeclared proposals, the provider was registered without
 * the partial-accept hook (the ghost text above came from it) and the log says so, once.
 */
function checkHookRefused(log) {
  const said = log.split("\n").filter((l) => l.includes("Partial accepts (accept word, accept line) are not counted"));
  const refused = said.length === 1 && said[0].includes("CANNOT use API proposal: inlineCompletionsAdditions");
  const step = "untrusted: an editor refusing the proposal: no partial-accept hook, said once in the log";
  if (refused) report.ok(step, said[0].trim());
  else report.fail(step, said.join(" | ") || "no such line");
}

/** An empty model cache: the fetch offered, cancelled, run from the menu (e2e/menu.mjs). */
async function missingSession() {
  const setup = missingModelSetup({ tmp, enclave: ENCLAVE, extDir: EXT_DIR, realModels: MODELS });
  const model = join(MODELS, "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf");
  if (!existsSync(model)) {
    report.fail("missing: session", `${model} is not provisioned (make models)`);
    return;
  }
  writeFileSync(setup.wrapper, setup.script);
  chmodSync(setup.wrapper, 0o755);
  const options = { trust: true, user: setup.user, hostileChecks: false, env: setup.env };
  await withSession("missing", options, (ed, _w, shot, userData) => missingModelChecks(ed, setup, shot, userData, report));
}

// ENCLAVE_E2E_SESSIONS=clash (say) runs only the sessions named; all by default.
const only = (process.env.ENCLAVE_E2E_SESSIONS ?? "").split(",").filter(Boolean);
const SESSIONS = ["trusted", "untrusted", "clash", "missing"];
const wanted = (name) => only.length === 0 || only.includes(name);

try {
  if (wanted("trusted")) await withSession("trusted", { trust: true }, async (ed, w, shot, userData) => {
    await checkReady(ed, "trusted");
    const ghost = await ghostText(ed, "trusted", shot, true);
    const inserted = await acceptedIsSaved(ed, w, ghost, shot);
    await checkAccepted(ed, "python", inserted, report, "Tab (full accept) in Python");
    for (const [name, run] of [
      ["explain", () => explain(ed, shot)],
      ["refactor", () => lightBulbRefactor(ed, w, shot)],
      ["review", () => review(ed, shot, "trusted", "calc.py", "def calculate")],
      ["menu", () => statusMenuChecks(ed, w, shot, userData, report, SLOW)],
    ]) {
      try {
        await run();
      } catch (err) {
        report.fail(`trusted: ${name}`, err instanceof Error ? err.message : String(err));
        console.log(`     screenshot ${await ed.shot(`trusted-${name}-failure.png`)}`);
      }
    }
  });
  if (wanted("untrusted")) {
    // Also an editor that refuses the partial-accept hook's proposal, as stable VS Code does.
    const log = await withSession("untrusted", { trust: false, stockProposals: true }, async (ed, _w, shot) => {
      const banner = ed.page.locator(".monaco-workbench", { hasText: "Restricted Mode" });
      await banner.first().waitFor({ timeout: 30000 });
      report.ok("untrusted: the window is in Restricted Mode");
      await checkReady(ed, "untrusted");
      await ghostText(ed, "untrusted", shot, false);
    });
    checkHookRefused(log);
  }
  if (wanted("clash")) await clashSession();
  if (wanted("missing")) await missingSession();
} finally {
  traps.close();
  rmSync(tmp, { recursive: true, force: true });
}

// The closing line says which sessions ran: a partial run must not read as the whole test.
const ran = SESSIONS.filter(wanted);
const partial = ran.length < SESSIONS.length ? `; ONLY ${ran.join(", ")} of ${SESSIONS.length} sessions` : `; all ${SESSIONS.length} sessions`;
console.log(report.closing() + partial);
console.log(`evidence: ${SHOTS} and ${LOGS}`);
process.exit(report.failed ? 1 : 0);
