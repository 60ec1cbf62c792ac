#!/usr/bin/env node
// The real-editor test: code-server (VS Code 1.100.3) with the packaged extension and the real
// Enclave server (0.5B model), driven by Playwright with Debian's chromium.
//   1. ghost text from the server appears in a Python file, Tab accepts it, the file has it;
//   2. Enclave: Review File puts the server's diagnostics in the editor (skipped, and said so,
//      when the server does not offer enclave.review);
//   3. Enclave: Explain Selection opens a Markdown preview beside (skipped likewise).
// Screenshots and logs go to .e2e/. Exits non-zero on failure. Run through `make e2e`.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const EXT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(EXT_DIR, ".e2e");
const SHOTS = join(OUT, "screenshots");
const CODE_SERVER = join(OUT, "code-server", "out", "node", "entry.js");
const VSIX = join(EXT_DIR, "enclave.vsix");
const ENCLAVE = process.env.ENCLAVE ?? resolve(EXT_DIR, "..", "..", ".venv", "bin", "enclave");
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const MODEL_SIZE = process.env.ENCLAVE_E2E_MODEL ?? "0.5b";

const SAMPLE = `import math


def circle_area(radius):
    """Return the area of a circle with the given radius."""
    return math.pi * radius ** 2


def rectangle_area(width, height):
    """Return the area of a rectangle."""
`;

const results = [];
function step(name, status, detail = "") {
  results.push({ name, status, detail });
  console.log(`${status.toUpperCase().padEnd(4)} ${name}${detail ? ": " + detail : ""}`);
}

function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

async function waitForHttp(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

for (const [what, file] of [["code-server", CODE_SERVER], ["the .vsix", VSIX], ["the enclave server", ENCLAVE], ["chromium", CHROMIUM]]) {
  if (!existsSync(file)) {
    console.error(`missing ${what}: ${file} (run: make -C editor-clients/vscode e2e)`);
    process.exit(2);
  }
}
mkdirSync(SHOTS, { recursive: true });
const tmp = mkdtempSync(join(tmpdir(), "enclave-e2e-"));
const userData = join(tmp, "user-data");
const extensions = join(tmp, "extensions");
const workspace = join(tmp, "workspace");
mkdirSync(join(userData, "User"), { recursive: true });
mkdirSync(workspace);
const samplePath = join(workspace, "shapes.py");
writeFileSync(samplePath, SAMPLE);
writeFileSync(
  join(userData, "User", "settings.json"),
  JSON.stringify(
    {
      "enclave.server.path": ENCLAVE,
      "enclave.model.size": MODEL_SIZE,
      "enclave.log.level": "debug",
      "enclave.trace.server": process.env.ENCLAVE_E2E_TRACE ?? "messages",
      "editor.inlineSuggest.enabled": true,
      "editor.minimap.enabled": false,
      "editor.quickSuggestions": { other: false, comments: false, strings: false },
      "workbench.startupEditor": "none",
      "workbench.tips.enabled": false,
      "workbench.enableExperiments": false,
      "security.workspace.trust.enabled": false,
      "telemetry.telemetryLevel": "off",
      "extensions.autoCheckUpdates": false,
      "extensions.autoUpdate": false,
      "update.mode": "none",
      "git.enabled": false,
      "chat.commandCenter.enabled": false,
      "window.commandCenter": false,
    },
    null,
    2,
  ),
);

const node = process.execPath;
const common = ["--user-data-dir", userData, "--extensions-dir", extensions];
const install = spawnSync(node, [CODE_SERVER, ...common, "--install-extension", VSIX], {
  encoding: "utf8",
});
if (install.status !== 0) {
  console.error(install.stdout, install.stderr);
  process.exit(1);
}
step("install the .vsix into code-server", "ok");

const port = await freePort();
const serverLog = join(OUT, "code-server.log");
const logFd = (await import("node:fs")).openSync(serverLog, "w");
const codeServer = spawn(
  node,
  [
    CODE_SERVER,
    ...common,
    "--bind-addr",
    `127.0.0.1:${port}`,
    "--auth",
    "none",
    "--disable-telemetry",
    "--disable-update-check",
    "--disable-workspace-trust",
    "--disable-getting-started-override",
    ...(process.env.ENCLAVE_E2E_TRACE ? ["--log", "trace"] : []),
    workspace,
  ],
  { stdio: ["ignore", logFd, logFd], detached: true },
);

let browser;
let page;
let failed = false;
const shot = async (name) => {
  const file = join(SHOTS, name);
  await page.screenshot({ path: file });
  console.log(`     screenshot ${file}`);
};

async function runCommand(title) {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor({ state: "visible", timeout: 10000 });
  await input.fill(">" + title);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor({ timeout: 10000 });
  await page.keyboard.press("Enter");
}

/** The editor's text as rendered (spaces normalised). */
async function editorText() {
  return (await page.locator(".monaco-editor .view-lines").first().innerText()).replace(/\u00a0/g, " ");
}

try {
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60000);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
  await page.locator(".monaco-workbench").waitFor({ timeout: 60000 });
  step("open code-server in chromium", "ok");

  // Open the Python file through Quick Open.
  await page.keyboard.press("Control+P");
  await page.locator(".quick-input-widget input").waitFor({ state: "visible", timeout: 15000 });
  await page.keyboard.type("shapes.py");
  await page.locator(".quick-input-list .monaco-list-row", { hasText: "shapes.py" }).first().waitFor({ timeout: 15000 });
  await page.keyboard.press("Enter");
  await page.locator(".monaco-editor .view-lines", { hasText: "rectangle_area" }).waitFor({ timeout: 20000 });

  // The status bar item says the model is ready.
  const status = page.locator(".statusbar-item", { hasText: "Enclave" }).first();
  await status.waitFor({ timeout: 60000 });
  const readyBy = Date.now() + 180000;
  let label = "";
  while (Date.now() < readyBy) {
    label = (await status.locator("a").first().getAttribute("aria-label")) ?? (await status.getAttribute("aria-label")) ?? "";
    if (/ready|error|stopped/.test(label)) break;
    await page.waitForTimeout(500);
  }
  if (!/ready/.test(label)) throw new Error(`status bar never said ready: "${label}"`);
  step("status bar: model ready", "ok", label);

  // Type at the end of the file; the server's suggestion shows as ghost text.
  await page.locator(".monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+End");
  await page.keyboard.type("    return ", { delay: 40 });
  const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").first();
  try {
    await ghost.waitFor({ state: "visible", timeout: 45000 });
  } catch {
    await page.keyboard.press("Alt+Backslash"); // editor.action.inlineSuggest.trigger
    await ghost.waitFor({ state: "visible", timeout: 60000 });
  }
  const ghostText = (await page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text").allInnerTexts())
    .join("")
    .replace(/\u00a0/g, " ")
    .trim();
  await shot("1-ghost-text.png");
  if (!ghostText) throw new Error("ghost text is empty");
  step("ghost text shown", "ok", JSON.stringify(ghostText));

  await page.keyboard.press("Tab");
  await page.waitForTimeout(500);
  await page.keyboard.press("Control+S");
  const firstGhostLine = ghostText.split("\n")[0].trim();
  const saveBy = Date.now() + 10000;
  let saved = readFileSync(samplePath, "utf8");
  while (!saved.includes(firstGhostLine) && Date.now() < saveBy) {
    await page.waitForTimeout(250); // the save may be mid-write
    saved = readFileSync(samplePath, "utf8");
  }
  const lastLine = saved.trimEnd().split("\n").pop() ?? "";
  await shot("2-accepted.png");
  if (!lastLine.startsWith("    return ") || !lastLine.includes(firstGhostLine)) {
    throw new Error(`Tab did not accept the suggestion; the file ends with ${JSON.stringify(lastLine)}`);
  }
  step("Tab accepted it; the saved file has it", "ok", JSON.stringify(lastLine));
  if (/return {2,}\S/.test(lastLine)) {
    // Not the extension's doing: the server's own answer starts with a space here (see the
    // LSP trace with ENCLAVE_E2E_TRACE=1). Reported; shown, not failed.
    step("no doubled space after the accepted text", "warn", "the server's suggestion began with a space after 'return '");
  }

  // Hover the status bar item: the tooltip shows the state and the last empty reason.
  await status.hover();
  await page.waitForTimeout(1500);
  await shot("3-status-tooltip.png");
  const hover = page.locator(".monaco-hover, .workbench-hover", { hasText: "Enclave" }).first();
  const hoverText = (await hover.isVisible()) ? await hover.innerText() : "";
  if (!/Model:/.test(hoverText)) throw new Error(`status tooltip not shown: ${JSON.stringify(hoverText)}`);
  step("status tooltip", "ok", hoverText.replace(/\s*\n+\s*/g, " | "));
  await page.mouse.move(700, 400);

  // Review: diagnostics from the server appear, unless the server does not offer it yet.
  await runCommand("Enclave: Review File");
  const notOffered = page.locator(".notification-toast", { hasText: "does not offer enclave.review" });
  const reviewed = page.locator(".notification-toast", { hasText: "Enclave review:" });
  await Promise.race([
    notOffered.waitFor({ timeout: 240000 }),
    reviewed.waitFor({ timeout: 240000 }),
  ]);
  if (await notOffered.isVisible()) {
    step("review diagnostics", "skip", "this server does not offer enclave.review yet");
  } else {
    const message = await reviewed.first().innerText();
    const squiggles = page.locator(".monaco-editor .squiggly-error, .monaco-editor .squiggly-warning, .monaco-editor .squiggly-info, .monaco-editor .squiggly-hint");
    if (/no findings/.test(message)) {
      step("review diagnostics", "ok", "the review ran and found nothing (no diagnostics to show)");
    } else {
      await squiggles.first().waitFor({ timeout: 20000 });
      step("review diagnostics", "ok", `${message.split("\n")[0]}; ${await squiggles.count()} marked in the editor`);
    }
  }
  await shot("4-review.png");
  await page.keyboard.press("Escape");

  // Explain: a Markdown preview beside the editor.
  await page.locator(".monaco-editor .view-lines").first().click();
  await page.keyboard.press("Control+A");
  await runCommand("Enclave: Explain Selection");
  const explainMissing = page.locator(".notification-toast", { hasText: "does not offer enclave.explain" });
  const previewTab = page.locator(".tab", { hasText: /Preview .*shapes/ });
  await Promise.race([
    explainMissing.waitFor({ timeout: 240000 }),
    previewTab.first().waitFor({ timeout: 240000 }),
  ]);
  if (await explainMissing.isVisible()) {
    step("explain selection", "skip", "this server does not offer enclave.explain yet");
  } else {
    await page.waitForTimeout(2000);
    step("explain selection", "ok", "Markdown preview opened beside the editor");
  }
  await shot("5-explain.png");
} catch (err) {
  failed = true;
  step("real-editor test", "fail", err instanceof Error ? err.message : String(err));
  if (page) await shot("failure.png").catch(() => {});
} finally {
  await browser?.close().catch(() => {});
  try {
    process.kill(-codeServer.pid, "SIGTERM");
  } catch {
    /* gone */
  }
  await new Promise((r) => setTimeout(r, 1000));
  try {
    process.kill(-codeServer.pid, "SIGKILL");
  } catch {
    /* gone */
  }
  const logs = join(userData, "logs");
  if (existsSync(logs)) {
    rmSync(join(OUT, "logs"), { recursive: true, force: true });
    cpSync(logs, join(OUT, "logs"), { recursive: true });
  }
  rmSync(tmp, { recursive: true, force: true });
}

const counts = { ok: 0, fail: 0, skip: 0, warn: 0 };
for (const r of results) counts[r.status] += 1;
if (counts.warn) console.log(`${counts.warn} warning(s), see WARN above`);
console.log(`${counts.ok} passed, ${counts.fail} failed, ${counts.skip} skipped`);
console.log(`logs: ${join(OUT, "logs")} and ${serverLog}`);
process.exit(failed ? 1 : 0);
