// Helpers of the real-editor test (run.mjs): code-server in chromium, driven by Playwright.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { chromium } from "playwright-core";

/** Results of the steps, and the closing line. A skip counts as a failure (nothing is optional). */
export class Report {
  results = [];
  step(name, status, detail = "") {
    this.results.push({ name, status, detail });
    const line = `${status.toUpperCase().padEnd(4)} ${name}${detail ? ": " + detail : ""}`;
    console.log(line.length > 600 ? line.slice(0, 600) + "…" : line);
  }
  ok(name, detail) {
    this.step(name, "ok", detail);
  }
  fail(name, detail) {
    this.step(name, "fail", detail);
  }
  get failed() {
    return this.results.some((r) => r.status === "fail" || r.status === "skip");
  }
  closing() {
    const count = (s) => this.results.filter((r) => r.status === s).length;
    const warned = count("warn") ? ` (${count("warn")} warning(s): see WARN)` : "";
    return `${count("ok")} passed, ${count("fail")} failed, ${count("skip")} skipped${warned}`;
  }
}

export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** A TCP listener that records every connection: nothing may ever reach it. */
export async function trap() {
  const connections = [];
  const server = createServer((socket) => {
    const seen = { at: new Date().toISOString(), bytes: "" };
    connections.push(seen);
    socket.on("data", (d) => (seen.bytes += d.toString("latin1").slice(0, 200)));
    socket.on("error", () => {});
    socket.end();
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return { port: server.address().port, connections, close: () => server.close() };
}

async function waitForHttp(url, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

/** The newest file under `dir` whose name matches `pattern`, or undefined. */
export function newestFile(dir, pattern) {
  let best;
  const walk = (d) => {
    for (const name of existsSync(d) ? readdirSync(d) : []) {
      const file = join(d, name);
      const st = statSync(file);
      if (st.isDirectory()) walk(file);
      else if (pattern.test(name) && (!best || st.mtimeMs > best.mtimeMs)) {
        best = { file, mtimeMs: st.mtimeMs };
      }
    }
  };
  walk(dir);
  return best?.file;
}

// Stock VS Code lets an extension use an API proposal only when it declares the proposal and
// is granted it; code-server's extension host replaces that check with `return true`.
const EXT_HOST = ["lib", "vscode", "out", "vs", "workbench", "api", "node", "extensionHostProcess.js"];
const GRANT_ALL =
  /function (\w+)\(e,t\)\{return!0\}(function \w+\(e,t\)\{if\(!\1\(e,t\)\)throw new Error\(`Extension '\$\{e\.identifier\.value\}' CANNOT use API proposal)/;

/**
 * With `stock`, puts VS Code's own check back in code-server's extension host (VS Code 1.100's
 * `isProposedApiEnabled`: the extension's declared proposals) until the returned function
 * restores code-server's: an editor that refuses undeclared proposals, as stable VS Code does.
 * A check left in place by a killed run is restored first, whatever `stock` says.
 */
export function proposalCheck(codeServer, stock) {
  const file = join(dirname(codeServer), "..", "..", ...EXT_HOST);
  const saved = `${file}.granting`;
  const restore = () => {
    if (!existsSync(saved)) return;
    copyFileSync(saved, file);
    rmSync(saved);
  };
  restore();
  if (!stock) return () => {};
  const text = readFileSync(file, "utf8");
  if (!GRANT_ALL.test(text)) throw new Error(`code-server's proposal check is not where it was in ${file}`);
  copyFileSync(file, saved);
  writeFileSync(file, text.replace(GRANT_ALL, "function $1(e,t){return e.enabledApiProposals?.includes(t)??!1}$2"));
  return restore;
}

/**
 * code-server with the .vsix installed in `userData` and `extensions`, serving `workspace`,
 * opened in chromium. Returns { page, close } ; close() keeps code-server's logs in `logsTo`.
 */
export async function openCodeServer({ codeServer, vsix, chromiumPath, userData, extensions, workspace, logFile, logsTo, trace, env, stockProposals }) {
  const node = process.execPath;
  const common = ["--user-data-dir", userData, "--extensions-dir", extensions];
  const install = spawnSync(node, [codeServer, ...common, "--install-extension", vsix], { encoding: "utf8" });
  if (install.status !== 0) throw new Error(`installing the .vsix failed: ${install.stdout} ${install.stderr}`);
  const port = await freePort();
  const fd = openSync(logFile, "w");
  const args = [codeServer, ...common, "--bind-addr", `127.0.0.1:${port}`, "--auth", "none"];
  args.push("--disable-telemetry", "--disable-update-check", "--disable-getting-started-override");
  // No --enable-proposed-api: code-server grants every extension the proposed APIs (the
  // partial-accept hook among them) with or without it (run without it, accept word counted),
  // unless `stockProposals` puts VS Code's check back (proposalCheck).
  if (trace) args.push("--log", "trace");
  const restoreCheck = proposalCheck(codeServer, Boolean(stockProposals));
  const proc = spawn(node, [...args, workspace], { stdio: ["ignore", fd, fd], detached: true, env: env ?? process.env });
  let browser;
  const close = async () => {
    await browser?.close().catch(() => {});
    for (const signal of ["SIGTERM", "SIGKILL"]) {
      try {
        process.kill(-proc.pid, signal);
      } catch {
        /* gone */
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    restoreCheck();
    const logs = join(userData, "logs");
    if (existsSync(logs)) {
      mkdirSync(logsTo, { recursive: true });
      cpSync(logs, logsTo, { recursive: true });
    }
  };
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 90000);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
    });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 90000 });
    return { page, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Drives one code-server page like a user. */
export class Editor {
  constructor(page, shots) {
    this.page = page;
    this.shots = shots;
  }

  async shot(name) {
    const file = join(this.shots, name);
    await this.page.screenshot({ path: file }).catch(() => {});
    return file;
  }

  /** Run a command from the palette (F1), the editor's selection kept. */
  async command(title) {
    const { page } = this;
    await page.keyboard.press("F1");
    const input = page.locator(".quick-input-widget input");
    await input.waitFor({ state: "visible", timeout: 15000 });
    await input.fill(">" + title);
    await page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press("Enter");
  }

  /** Open a file of the workspace from the Explorer, as a user clicks it. */
  async open(name, expectText) {
    const { page } = this;
    const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
    const label = page.locator(".label-name", { hasText: exact });
    const row = page.locator(".explorer-folders-view .monaco-list-row").filter({ has: label }).first();
    await row.waitFor({ timeout: 30000 });
    await row.click();
    const text = page.locator(".editor-group-container.active .monaco-editor .view-lines", { hasText: expectText });
    await text.first().waitFor({ timeout: 30000 });
    await text.first().click(); // the focus in the editor, not in the Explorer
  }

  /** Put the cursor on line `line` (1-based, Ctrl+G), at its start; checked in the status bar. */
  async goToLine(line) {
    const { page } = this;
    const where = page.locator(".statusbar-item", { hasText: /Ln \d+, Col \d+/ }).first();
    for (let attempt = 0; attempt < 3; attempt++) {
      await page.keyboard.press("Escape");
      await page.keyboard.press("Control+G");
      const input = page.locator(".quick-input-widget input");
      await input.waitFor({ state: "visible", timeout: 15000 });
      await input.fill(`:${line}:1`);
      await page.waitForTimeout(300);
      await page.keyboard.press("Enter");
      await page.waitForTimeout(300);
      if ((await where.innerText()).includes(`Ln ${line}, Col 1`)) return;
    }
    throw new Error(`could not move the cursor to line ${line}: ${await where.innerText()}`);
  }

  /** Choose `title` in the open action menu (the light bulb's) with the keyboard. */
  async chooseAction(title) {
    const { page } = this;
    const rows = page.locator(".action-widget .monaco-list-row");
    await rows.filter({ hasText: title }).first().waitFor({ timeout: 60000 });
    for (let i = 0; i < 30; i++) {
      const focused = await page.locator(".action-widget .monaco-list-row.focused").first().getAttribute("aria-label").catch(() => null);
      if (focused === title) {
        await page.keyboard.press("Enter");
        return;
      }
      await page.keyboard.press("ArrowDown");
    }
    throw new Error(`"${title}" never got the focus in the action menu`);
  }

  status() {
    return this.page.locator(".statusbar-item", { hasText: "Enclave" }).first();
  }

  /** Click the status item and choose `label` in its menu (the quick pick). */
  async menu(label) {
    const { page } = this;
    await page.keyboard.press("Escape");
    await this.status().click();
    const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`);
    const row = page.locator(".quick-input-list .monaco-list-row").filter({ has: page.locator(".label-name", { hasText: exact }) });
    await row.first().waitFor({ timeout: 15000 });
    await row.first().click();
  }

  /** The labels of the status item's menu (opened, read, closed). */
  async menuLabels(shot) {
    const { page } = this;
    await page.keyboard.press("Escape");
    await this.status().click();
    const rows = page.locator(".quick-input-list .monaco-list-row .label-name");
    await rows.first().waitFor({ timeout: 15000 });
    await page.waitForTimeout(300);
    if (shot) await shot();
    const labels = (await rows.allInnerTexts()).map((t) => t.trim());
    await page.keyboard.press("Escape");
    return labels;
  }

  /** Wait until the status item's label matches `pattern`; returns it. */
  async statusMatches(pattern, ms) {
    const end = Date.now() + ms;
    let label = "";
    while (Date.now() < end) {
      label = await this.statusLabel();
      if (pattern.test(label)) return label;
      await this.page.waitForTimeout(300);
    }
    throw new Error(`the status item never matched ${pattern}: "${label}"`);
  }

  /** The visible notification toast containing `text`. */
  toast(text) {
    return this.page.locator(".notification-toast", { hasText: text }).first();
  }

  async statusLabel() {
    const item = this.status();
    return (await item.locator("a").first().getAttribute("aria-label").catch(() => null)) ?? (await item.getAttribute("aria-label")) ?? "";
  }

  /** Wait for the status item to leave starting/loading; returns its label. */
  async waitSettled(ms) {
    await this.status().waitFor({ timeout: 90000 });
    const end = Date.now() + ms;
    let label = "";
    while (Date.now() < end) {
      label = await this.statusLabel();
      if (/ready|error|stopped/.test(label)) return label;
      await this.page.waitForTimeout(500);
    }
    return label;
  }

  /** The status item's tooltip text (hovered). */
  async tooltip() {
    await this.status().hover();
    await this.page.waitForTimeout(1500);
    const hover = this.page.locator(".monaco-hover, .workbench-hover", { hasText: "Enclave" }).first();
    const text = (await hover.isVisible()) ? await hover.innerText() : "";
    await this.page.mouse.move(700, 450);
    return text;
  }

  /** Type `text`, ask for a suggestion (Alt+\\) and wait `ms`: true if ghost text showed. */
  async ghostShows(text, ms) {
    const { page } = this;
    await page.keyboard.type(text, { delay: 40 });
    await page.keyboard.press("Alt+Backslash");
    const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text");
    return ghost.first().waitFor({ state: "visible", timeout: ms }).then(() => true, () => false);
  }

  /** Remove what was typed on the cursor's line (the line stays, empty). */
  async clearLine() {
    const { page } = this;
    await page.keyboard.press("Escape");
    await page.keyboard.press("End");
    await page.keyboard.press("Shift+Home");
    await page.keyboard.press("Shift+Home");
    await page.keyboard.press("Backspace");
  }

  /** Type `text` where the cursor is and wait for ghost text; returns it (or throws). */
  async ghostAfterTyping(text, ms) {
    const { page } = this;
    await page.keyboard.type(text, { delay: 40 });
    const ghost = page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text");
    const end = Date.now() + ms;
    for (;;) {
      try {
        await ghost.first().waitFor({ state: "visible", timeout: Math.min(60000, end - Date.now()) });
        break;
      } catch (err) {
        if (Date.now() >= end) throw err;
        // An empty answer (a deadline on a busy machine) is not asked again by itself.
        await page.keyboard.press("Alt+Backslash"); // editor.action.inlineSuggest.trigger
      }
    }
    return (await ghost.allInnerTexts()).join("").replace(/\u00a0/g, " ");
  }

  /** The ghost text shown now ("" when none). */
  async ghostNow() {
    const ghost = this.page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text");
    return (await ghost.allInnerTexts()).join("").replace(/\u00a0/g, " ");
  }

  /** Press `key` and wait until the ghost text shows something else than `before`. */
  async ghostChangesOn(key, before, ms) {
    await this.page.keyboard.press(key);
    const end = Date.now() + ms;
    for (;;) {
      const now = await this.ghostNow();
      if (now && now !== before) return now;
      if (Date.now() >= end) throw new Error(`${key} did not change the ghost text ${JSON.stringify(before)}`);
      await this.page.waitForTimeout(250);
    }
  }

  /** The innerText of every frame (webviews included) that contains `needle`. */
  async framesWith(needle) {
    const texts = [];
    for (const frame of this.page.frames()) {
      const text = await frame.locator("body").innerText({ timeout: 2000 }).catch(() => "");
      if (text.includes(needle)) texts.push(text);
    }
    return texts;
  }
}
