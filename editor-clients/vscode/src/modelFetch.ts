// When the server says the bundled model is missing: a notification offering to fetch it, and
// the fetch itself (`<server> model fetch --size ...`, the executable the server was started
// with) with its progress in a cancellable notification; then the server restarts.
import { ChildProcess, spawn } from "node:child_process";
import * as vscode from "vscode";
import { Command, failureText, FetchProgress, fetchCommand } from "./fetch";

/** Time a cancelled fetch gets to clean up (remove its partial file) before it is killed. */
const CLEANUP_MS = 10_000;

export interface FetchHost {
  log: vscode.LogOutputChannel;
  server(): Command | undefined; // the command the server was started with
  restart(): Promise<void>;
}

type Outcome = "done" | "cancelled" | "failed";

export class ModelFetcher {
  private running: string | undefined;
  private readonly offered = new Set<string>();

  constructor(private readonly host: FetchHost) {}

  get fetching(): boolean {
    return this.running !== undefined;
  }

  /** Offer the fetch once per size and window (the status menu offers it again). */
  async offer(size: string): Promise<void> {
    if (this.offered.has(size) || this.running) return;
    this.offered.add(size);
    const choice = await vscode.window.showWarningMessage(
      `Enclave: the ${size} model is not on this machine yet. Fetch it now?`,
      "Fetch the model",
      "Not now",
    );
    if (choice === "Fetch the model") await this.fetch(size);
  }

  async fetch(size: string): Promise<void> {
    if (this.running) {
      void vscode.window.showInformationMessage(`Enclave: the ${this.running} model is being fetched.`);
      return;
    }
    const server = this.host.server();
    const command = server && fetchCommand(server, size);
    if (!command) {
      void vscode.window.showErrorMessage(
        `Enclave cannot tell how to run its fetch from enclave.server.args; run \`enclave model fetch --size ${size}\` in a terminal, then restart the server.`,
      );
      return;
    }
    this.running = size;
    let outcome: Outcome;
    let detail = "";
    try {
      [outcome, detail] = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Enclave: fetching the ${size} model`, cancellable: true },
        (progress, token) => this.run(command, progress, token),
      );
    } finally {
      this.running = undefined;
    }
    if (outcome === "done") {
      void vscode.window.showInformationMessage(`Enclave: the ${size} model is ready; restarting the server.`);
      await this.host.restart();
    } else if (outcome === "cancelled") {
      void vscode.window.showInformationMessage("Enclave: the model fetch was cancelled.");
    } else {
      const choice = await vscode.window.showErrorMessage(detail, "Show Log");
      if (choice) this.host.log.show(true);
    }
  }

  private run(
    command: Command,
    progress: vscode.Progress<{ message?: string; increment?: number }>,
    token: vscode.CancellationToken,
  ): Promise<[Outcome, string]> {
    const { log } = this.host;
    log.info(`Fetching the model: ${command.command} ${command.args.join(" ")}`);
    const parser = new FetchProgress();
    let shown = 0;
    const report = (chunk: string | undefined): void => {
      for (const update of chunk === undefined ? parser.end() : parser.feed(chunk)) {
        const increment = update.percent !== undefined ? update.percent - shown : undefined;
        if (update.percent !== undefined) shown = update.percent;
        progress.report({ message: update.message, increment });
        if (update.percent === undefined || update.percent % 10 === 0) {
          log.info(`model fetch: ${update.message ?? ""}`);
        }
      }
    };
    return new Promise((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(command.command, command.args, { stdio: ["ignore", "pipe", "pipe"] });
      } catch (err) {
        resolve(["failed", `The model fetch did not start: ${err}`]);
        return;
      }
      let cancelled = false;
      let killer: ReturnType<typeof setTimeout> | undefined;
      const cancel = token.onCancellationRequested(() => {
        cancelled = true;
        log.info("model fetch: cancelled; asking it to stop (SIGINT)");
        // SIGINT lets the fetch remove its partial file; a kill after the grace time.
        child.kill("SIGINT");
        killer = setTimeout(() => child.kill("SIGKILL"), CLEANUP_MS);
      });
      child.stdout?.setEncoding("utf8").on("data", (d: string) => log.info(`model fetch: ${d.trim()}`));
      child.stderr?.setEncoding("utf8").on("data", report);
      child.on("error", (err) => {
        cancel.dispose();
        resolve(["failed", `The model fetch did not start: ${err.message}`]);
      });
      child.on("close", (code, signal) => {
        cancel.dispose();
        if (killer) clearTimeout(killer);
        report(undefined);
        log.info(`model fetch: ended (${signal ?? `exit ${code}`})`);
        if (cancelled) resolve(["cancelled", ""]);
        else if (code === 0) resolve(["done", ""]);
        else resolve(["failed", failureText(code, signal, parser.tail)]);
      });
    });
  }
}
