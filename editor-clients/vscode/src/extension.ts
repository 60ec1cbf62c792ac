// The VS Code side of Enclave: starts `enclave serve`, passes settings, shows its status and
// its menu, and offers its commands. The pure parts live in settings.ts, status.ts, gate.ts,
// menu.ts, fetch.ts, statusReport.ts, serverPath.ts, markdown.ts and actions.ts (unit-tested
// without VS Code); controls.ts and modelFetch.ts hold the completion switches and the fetch.
import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  CodeAction as LspCodeAction,
  CodeActionRequest,
  CodeActionResolveRequest,
  Command as LspCommand,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  InlineCompletionRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
  TransportKind,
  WorkspaceEdit as LspWorkspaceEdit,
} from "vscode-languageclient/node";
import { ACCEPTED, AcceptArgument, PartialAccepts, PartialHook } from "./accept";
import { enclaveActions, findingsText, isWorkspaceEdit, safeName } from "./actions";
import {
  CommandFeature,
  CommandGuard,
  contributedCommands,
  guardFeature,
  needsInstruction,
  SERVER_COMMANDS,
} from "./commands";
import { CompletionControls } from "./controls";
import { Command, missingModel } from "./fetch";
import { FOCUS_NOTIFICATION, FocusReporter } from "./focus";
import { clockTime, LANGUAGES, SNOOZE_MINUTES } from "./gate";
import { sanitizeMarkdown } from "./markdown";
import { MenuAction, menuEntries } from "./menu";
import { ModelFetcher } from "./modelFetch";
import { resolveServer } from "./serverPath";
import {
  classifyChange,
  ignoredPlaces,
  sameValues,
  scrubAnswer,
  SECTION,
  serverKeys,
  serverSettings,
  SettingsReader,
  userOnlyKeys,
  userValue,
  userValues,
} from "./settings";
import { baseName, formatStatus, ServerStatus } from "./status";
import { statsPage, statusReport } from "./statusReport";

const EXPLAIN_SCHEME = "enclave-explain";

let client: LanguageClient | undefined;
let log: vscode.LogOutputChannel;
let statusItem: vscode.StatusBarItem;
let lastStatus: ServerStatus | undefined;
let keys: string[] = []; // the server's settings
let manifestKeys: string[] = [];
let userOnly = new Set<string>(); // taken from the user's own settings only
let sentUserValues: Record<string, unknown> = {}; // the user-only values the server started with
const warnedIgnored = new Set<string>();
let ownCommands = new Set<string>();
let extensionPath = "";
let focus: FocusReporter;
let controls: CompletionControls;
let fetcher: ModelFetcher;
let pages: PageProvider;
let started: Command | undefined; // the server command of the running client
const partials = new PartialAccepts();
let partialHook: PartialHook; // refused once: the editor does not grant the proposal

function reportFocus(editor: vscode.TextEditor | undefined): void {
  const doc = editor?.document;
  if (!editor || !doc || !LANGUAGES.includes(doc.languageId)) return;
  if (doc.uri.scheme !== "file" && doc.uri.scheme !== "untitled") return;
  if (controls.suppressedFor(doc)) return; // no warm-up where no completion is asked for
  const at = editor.selection.active;
  focus.moved(doc.uri.toString(), at.line, at.character);
}

function reader(scope?: vscode.Uri): SettingsReader {
  const cfg = vscode.workspace.getConfiguration(SECTION, scope);
  return { get: (key) => cfg.get(key), inspect: (key) => cfg.inspect(key) };
}

/** The user's own value of a user-only setting (a key without "enclave."). */
function userSetting<T>(key: string): T | undefined {
  return userValue(reader().inspect(key)) as T | undefined;
}

/** Say once per key when a workspace or folder value of a user-only setting is not taken. */
function warnIgnored(): void {
  const folders = vscode.workspace.workspaceFolders ?? [];
  const scopes = [undefined, ...(folders.length > 1 ? folders.map((f) => f.uri) : [])];
  for (const key of userOnly) {
    if (warnedIgnored.has(key)) continue;
    const short = key.slice(SECTION.length + 1);
    const places = new Set(scopes.flatMap((scope) => ignoredPlaces(reader(scope).inspect(short))));
    if (places.size === 0) continue;
    warnedIgnored.add(key);
    log.warn(
      `Ignoring ${key} from ${[...places].join(", ")}: it is taken from your user settings only.`,
    );
  }
}

// -- status -----------------------------------------------------------------------------------

function showStatus(status: ServerStatus | undefined): void {
  lastStatus = status;
  const view = formatStatus(status, controls.view(vscode.window.activeTextEditor?.document));
  statusItem.text = view.text;
  const tooltip = new vscode.MarkdownString(view.tooltip);
  tooltip.isTrusted = false;
  statusItem.tooltip = tooltip;
  statusItem.accessibilityInformation = { label: view.accessibility };
  statusItem.backgroundColor =
    view.level === "error"
      ? new vscode.ThemeColor("statusBarItem.errorBackground")
      : view.level === "warning"
        ? new vscode.ThemeColor("statusBarItem.warningBackground")
        : undefined;
  statusItem.show();
}

// -- the language client ----------------------------------------------------------------------

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function makeClient(reserved: ReadonlySet<string>): LanguageClient {
  warnIgnored();
  const server = resolveServer({
    configuredPath: userSetting<string>("server.path"),
    configuredArgs: userSetting<string[]>("server.args"),
    extensionPath,
    envPath: process.env.PATH,
    platform: process.platform,
    home: os.homedir(),
    isExecutable,
  });
  log.info(`Starting ${server.command} ${server.args.join(" ")} (from ${server.source})`);
  started = server;
  const serverOptions: ServerOptions = {
    command: server.command,
    args: server.args,
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: "file", language },
      { scheme: "untitled", language },
    ]),
    initializationOptions: serverSettings(keys, userOnly, reader(), true),
    outputChannel: log,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    connectionOptions: { maxRestartCount: 4 },
    middleware: {
      // Nothing is asked where completions are off for the language, or snoozed (the server's
      // own switch is the global one).
      provideInlineCompletionItems: (document, position, context, token, next) =>
        controls.suppressedFor(document) ? undefined : next(document, position, context, token),
      // VS Code shows the server's inline completions as ghost text; its completion-item
      // fallback would offer the same text again in the suggest widget. Use it only when
      // inline suggestions are turned off in the editor.
      provideCompletionItem: (document, position, context, token, next) =>
        vscode.workspace.getConfiguration("editor", document).get("inlineSuggest.enabled", true) ||
        controls.suppressedFor(document)
          ? undefined
          : next(document, position, context, token),
      // The server's pulls (workspace/configuration) get the user's own user-only values.
      workspace: {
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) return answers;
          const user = userValues(userOnly, reader());
          return answers.map((answer, i) => scrubAnswer(params.items[i]?.section, answer, user));
        },
      },
      // "Rewrite with instruction" from the light bulb comes without its instruction. An
      // accepted suggestion's report is sent here, quietly (an expired id is no error).
      executeCommand: async (command, args, next) => {
        if (command === ACCEPTED) return reportAccepted(args[0] as AcceptArgument);
        if (!needsInstruction(command, args)) return next(command, args);
        const instruction = await askInstruction();
        return instruction ? next(command, [{ ...args[0], instruction }]) : undefined;
      },
    },
  };
  const c = new LanguageClient("enclave", "Enclave", serverOptions, clientOptions);
  sentUserValues = userValues(userOnly, reader());
  reportPartialAccepts(c.getFeature(InlineCompletionRequest.method) as unknown as InlineFeature, c);
  guardFeature(
    c.getFeature(ExecuteCommandRequest.method) as unknown as CommandFeature,
    new CommandGuard(reserved),
    (message) => log.warn(message),
  );
  c.onDidChangeState((e) => {
    void vscode.commands.executeCommand("setContext", "enclave.running", e.newState === State.Running);
    if (e.newState === State.Starting) showStatus({ state: "starting", message: "" });
    if (e.newState === State.Stopped && c === client) {
      showStatus({ ...lastStatus, state: "stopped", message: "The Enclave server stopped." });
    }
  });
  return c;
}

/** Tell the server a suggestion was accepted (all of it, or `acceptedChars` so far). */
async function reportAccepted(arg: AcceptArgument & { acceptedChars?: number }): Promise<void> {
  const c = client;
  if (c?.state !== State.Running) return;
  try {
    const answer = await c.sendRequest(ExecuteCommandRequest.type, { command: ACCEPTED, arguments: [arg] });
    log.debug(`accepted ${JSON.stringify(arg)}: ${JSON.stringify(answer)}`);
  } catch (err) {
    log.info(`the server did not count an accepted suggestion: ${err instanceof Error ? err.message : err}`);
  }
}

/** The part of vscode-languageclient's InlineCompletionItemFeature wrapped here. */
interface InlineFeature {
  registerLanguageProvider(options: { documentSelector: unknown }): [vscode.Disposable, vscode.InlineCompletionItemProvider];
}

/** Accept word / line run no command: the provider's hook reports them (see accept.ts). */
function reportPartialAccepts(feature: InlineFeature, c: LanguageClient): void {
  const register = feature.registerLanguageProvider.bind(feature);
  feature.registerLanguageProvider = (options) => {
    const selector = c.protocol2CodeConverter.asDocumentSelector(options.documentSelector as never);
    return partialHook.wrap(register(options), (provider) =>
      vscode.languages.registerInlineCompletionItemProvider(selector, provider as vscode.InlineCompletionItemProvider),
    );
  };
}

async function startClient(): Promise<void> {
  let c: LanguageClient;
  // Every command VS Code has now, the extension's own included: the server's list may not
  // take any of them (a clash would stop the client from starting).
  const reserved = new Set([...ownCommands, ...(await vscode.commands.getCommands(false))]);
  try {
    c = makeClient(reserved);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.error(message);
    showStatus({ state: "error", message });
    const choice = await vscode.window.showErrorMessage(message, "Open Settings");
    if (choice) void vscode.commands.executeCommand("workbench.action.openSettings", "enclave.server");
    return;
  }
  client = c;
  showStatus({ state: "starting", message: "" });
  try {
    await c.start();
  } catch (err) {
    const message = `The Enclave server did not start: ${err instanceof Error ? err.message : err}`;
    log.error(message);
    showStatus({ state: "error", message });
    return;
  }
  let notified = false;
  c.onNotification("enclave/status", (status: ServerStatus) => {
    notified = true;
    showStatus(status);
    offerFetch(status);
  });
  try {
    const status = await c.sendRequest<ServerStatus>("enclave/getStatus", {});
    if (!notified && status) {
      showStatus(status);
      offerFetch(status);
    }
  } catch (err) {
    log.warn(`enclave/getStatus failed: ${err}`);
  }
  focus.reset(); // a new server knows no cursor yet
  reportFocus(vscode.window.activeTextEditor);
}

async function stopClient(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.stop(5000);
    } catch (err) {
      log.warn(`stopping the server: ${err}`);
    }
  }
}

async function restartClient(): Promise<void> {
  await stopClient();
  await startClient();
}

function runningClient(): LanguageClient | undefined {
  if (client?.state === State.Running) return client;
  void vscode.window.showWarningMessage("The Enclave server is not running (see Enclave: Show Log).");
  return undefined;
}

function offers(c: LanguageClient, command: string): boolean {
  return (c.initializeResult?.capabilities.executeCommandProvider?.commands ?? []).includes(command);
}

/** Run one of the server's workspace/executeCommand commands with a cancellable progress. */
async function serverCommand<T>(title: string, command: string, arg: object): Promise<T | undefined> {
  const c = runningClient();
  if (!c) return undefined;
  if (!offers(c, command)) {
    void vscode.window.showWarningMessage(
      `This Enclave server does not offer ${command}; update the server.`,
    );
    return undefined;
  }
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (_, token) => {
      try {
        return (await c.sendRequest(
          ExecuteCommandRequest.type,
          { command, arguments: [arg] },
          token,
        )) as T;
      } catch (err) {
        if (!token.isCancellationRequested) {
          void vscode.window.showErrorMessage(`Enclave: ${err instanceof Error ? err.message : err}`);
        }
        return undefined;
      }
    },
  );
}

function editorAndClient(): [vscode.TextEditor, LanguageClient] | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage("Open a file first.");
    return undefined;
  }
  const c = runningClient();
  return c ? [editor, c] : undefined;
}

// -- commands ---------------------------------------------------------------------------------

/** Read-only Markdown pages (explanations, the status report) for the preview. */
class PageProvider implements vscode.TextDocumentContentProvider {
  private readonly docs = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(uri: vscode.Uri, text: string): void {
    this.docs.set(uri.toString(), text);
    while (this.docs.size > 20) this.docs.delete(this.docs.keys().next().value as string);
    this.changed.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? "This page is no longer available.";
  }
}

let pageCount = 0;

/** Show sanitized Markdown in the preview beside the editor (as text if there is none). */
async function showPage(name: string, markdown: string): Promise<void> {
  const uri = vscode.Uri.from({ scheme: EXPLAIN_SCHEME, path: `/${name}.md`, query: String(++pageCount) });
  pages.set(uri, sanitizeMarkdown(markdown));
  try {
    await vscode.commands.executeCommand("markdown.showPreviewToSide", uri);
  } catch {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, "markdown");
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
  }
}

async function explainSelection(): Promise<void> {
  const pair = editorAndClient();
  if (!pair) return;
  const [editor, c] = pair;
  const selection = editor.selection;
  const result = await serverCommand<{ markdown?: string; path?: string | null }>(
    "Enclave: explaining...",
    SERVER_COMMANDS.explain,
    {
      uri: c.code2ProtocolConverter.asUri(editor.document.uri),
      range: c.code2ProtocolConverter.asRange(selection),
    },
  );
  if (!result) return;
  const file = editor.document.uri.path.split("/").pop() ?? "file";
  const lines = `lines ${selection.start.line + 1}-${selection.end.line + 1}`;
  const what = result.path ? `${result.path}` : `${file}, ${lines}`;
  // One document, sanitized as a whole: the heading cannot open markup the body closes.
  const heading = `# Explanation: ${what.replace(/\s+/g, " ")}`;
  await showPage(safeName(`${file}-${lines}`), `${heading}\n\n${result.markdown ?? ""}\n`);
}

async function reviewFile(): Promise<void> {
  const pair = editorAndClient();
  if (!pair) return;
  const [editor, c] = pair;
  const arg: Record<string, unknown> = { uri: c.code2ProtocolConverter.asUri(editor.document.uri) };
  if (!editor.selection.isEmpty) arg.range = c.code2ProtocolConverter.asRange(editor.selection);
  const result = await serverCommand<{ findings?: number }>(
    "Enclave: reviewing...",
    SERVER_COMMANDS.review,
    arg,
  );
  if (!result) return;
  const n = result.findings ?? 0;
  if (n > 0) {
    void vscode.commands.executeCommand("workbench.actions.view.problems");
    void vscode.window.showInformationMessage(`Enclave review: ${findingsText(n)} (see Problems).`);
  } else {
    void vscode.window.showInformationMessage("Enclave review: no findings.");
  }
}

function askInstruction(): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    prompt: "How should Enclave rewrite the selection?",
    placeHolder: "e.g. use a list comprehension",
  });
}

interface ActionPick extends vscode.QuickPickItem {
  action?: LspCodeAction;
  custom?: boolean;
}

async function applyLspEdit(c: LanguageClient, edit: unknown): Promise<boolean> {
  const converted = await c.protocol2CodeConverter.asWorkspaceEdit(edit as LspWorkspaceEdit);
  return vscode.workspace.applyEdit(converted);
}

async function refactor(): Promise<void> {
  const pair = editorAndClient();
  if (!pair) return;
  const [editor, c] = pair;
  const document = editor.document;
  const range = editor.selection;
  const ours = vscode.languages
    .getDiagnostics(document.uri)
    .filter((d) => d.source === "enclave" && d.range.intersection(range) !== undefined);
  const items = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: "Enclave: asking for actions" },
    () =>
      c.sendRequest(CodeActionRequest.type, {
        textDocument: { uri: c.code2ProtocolConverter.asUri(document.uri) },
        range: c.code2ProtocolConverter.asRange(range),
        context: { diagnostics: c.code2ProtocolConverter.asDiagnosticsSync(ours), triggerKind: 1 },
      }),
  );
  const picks: ActionPick[] = enclaveActions<LspCodeAction>(
    (items ?? []) as (LspCodeAction | LspCommand)[],
  ).map((action) => ({
    label: action.title,
    description: action.disabled ? action.disabled.reason : action.kind,
    action,
  }));
  if (offers(c, SERVER_COMMANDS.rewrite)) {
    picks.push({ label: "Enclave: Rewrite with an instruction...", custom: true });
  }
  if (picks.length === 0) {
    void vscode.window.showInformationMessage("Enclave has no actions for this selection.");
    return;
  }
  const pick = await vscode.window.showQuickPick(picks, { placeHolder: "Enclave: refactor the selection" });
  if (!pick) return;
  if (pick.custom) {
    const instruction = await askInstruction();
    if (!instruction) return;
    const result = await serverCommand<unknown>("Enclave: rewriting...", SERVER_COMMANDS.rewrite, {
      uri: c.code2ProtocolConverter.asUri(document.uri),
      range: c.code2ProtocolConverter.asRange(range),
      instruction,
    });
    if (isWorkspaceEdit(result)) await applyLspEdit(c, result);
    return;
  }
  let action = pick.action!;
  if (action.disabled) {
    void vscode.window.showInformationMessage(action.disabled.reason);
    return;
  }
  if (!action.edit && !action.command) {
    action = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `${action.title}...`, cancellable: true },
      (_, token) => c.sendRequest(CodeActionResolveRequest.type, action, token),
    );
  }
  if (action.edit && !(await applyLspEdit(c, action.edit))) {
    void vscode.window.showWarningMessage("Enclave: the edit could not be applied (the file changed?).");
    return;
  }
  if (action.command) {
    await c.sendRequest(ExecuteCommandRequest.type, {
      command: action.command.command,
      arguments: action.command.arguments,
    });
  }
}

async function toggleCompletions(): Promise<void> {
  const enabled = !controls.globalEnabled();
  await controls.setGlobal(enabled);
  vscode.window.setStatusBarMessage(`Enclave completions ${enabled ? "on" : "off"}`, 3000);
}

async function toggleLanguage(): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  const language = controls.language(doc);
  if (!doc || !language) {
    void vscode.window.showInformationMessage("Enclave: open a file in a language Enclave serves first.");
    return;
  }
  await controls.setLanguage(doc, !language.enabled);
  const now = language.enabled ? "off" : "on";
  vscode.window.setStatusBarMessage(`Enclave completions ${now} for ${language.name}`, 3000);
}

async function snoozeCompletions(minutes?: number): Promise<void> {
  if (minutes === undefined) {
    const picks = SNOOZE_MINUTES.map((m) => ({ label: `${m} minutes`, minutes: m }));
    minutes = (await vscode.window.showQuickPick(picks, { placeHolder: "Snooze completions for" }))?.minutes;
    if (minutes === undefined) return;
  }
  controls.snooze.snooze(minutes);
}

// -- missing model and status ----------------------------------------------------------------

function offerFetch(status: ServerStatus): void {
  const size = missingModel(status);
  if (size) void fetcher.offer(size);
}

async function showServerStatus(): Promise<void> {
  const c = runningClient();
  if (!c) return;
  let answer: unknown;
  try {
    answer = await c.sendRequest("enclave/getStatus", {});
  } catch (err) {
    void vscode.window.showErrorMessage(`Enclave: enclave/getStatus failed: ${err}`);
    return;
  }
  const view = formatStatus(lastStatus, controls.view(vscode.window.activeTextEditor?.document));
  const words = /^Enclave: ([^.]*)/.exec(view.accessibility)?.[1] ?? "";
  const server = started ? `${started.command} ${started.args.join(" ")}` : "";
  const facts = { asOf: clockTime(Date.now(), true), completions: words, server, modelSize: controls.modelSize() };
  await showPage("enclave-status", statusReport(answer, facts));
}

async function showStatistics(): Promise<void> {
  const c = runningClient();
  if (!c) return;
  try {
    const answer = await c.sendRequest("enclave/getStatus", {});
    await showPage("enclave-statistics", statsPage(answer, clockTime(Date.now(), true)));
  } catch (err) {
    void vscode.window.showErrorMessage(`Enclave: enclave/getStatus failed: ${err}`);
  }
}

// -- the status bar menu ---------------------------------------------------------------------

interface MenuPick extends vscode.QuickPickItem {
  action?: MenuAction;
}

async function statusMenu(): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  const snoozed = controls.snooze.until;
  const entries = menuEntries({
    state: lastStatus?.state ?? "starting",
    model: lastStatus?.model ? baseName(lastStatus.model) : undefined,
    globalEnabled: controls.globalEnabled(),
    language: controls.language(doc),
    snoozedUntil: snoozed === undefined ? undefined : controls.view(doc).snoozedUntil,
    modelSize: controls.modelSize(),
    missingModel: missingModel(lastStatus),
    fetching: fetcher.fetching,
  });
  const picks: MenuPick[] = entries.map((e) =>
    e.action
      ? { label: e.label, description: e.description, action: e.action }
      : { label: e.label, kind: vscode.QuickPickItemKind.Separator },
  );
  const pick = await vscode.window.showQuickPick(picks, { placeHolder: "Enclave", title: "Enclave" });
  if (pick?.action) await runMenuAction(pick.action, doc);
}

async function runMenuAction(action: MenuAction, doc: vscode.TextDocument | undefined): Promise<void> {
  switch (action.kind) {
    case "toggle":
      return controls.setGlobal(action.enable);
    case "language":
      if (doc) await controls.setLanguage(doc, action.enable);
      return;
    case "snooze":
      controls.snooze.snooze(action.minutes);
      return;
    case "resume":
      return controls.snooze.resume();
    case "size":
      return controls.setModelSize(action.size);
    case "fetch":
      return fetcher.fetch(action.size);
    case "status":
      return showServerStatus();
    case "stats":
      return showStatistics();
    case "log":
      return log.show(true);
    case "restart":
      return restartClient();
    case "settings":
      await vscode.commands.executeCommand("workbench.action.openSettings", "@ext:enclave.enclave");
      return;
  }
}

// -- activation -------------------------------------------------------------------------------

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionPath = context.extensionPath;
  const properties = context.extension.packageJSON?.contributes?.configuration?.properties;
  keys = serverKeys(properties);
  manifestKeys = Object.keys(properties ?? {});
  userOnly = userOnlyKeys(context.extension.packageJSON);
  ownCommands = contributedCommands(context.extension.packageJSON);
  log = vscode.window.createOutputChannel("Enclave", { log: true });
  statusItem = vscode.window.createStatusBarItem("enclave.status", vscode.StatusBarAlignment.Right, 100);
  statusItem.name = "Enclave";
  statusItem.command = "enclave.statusMenu";
  pages = new PageProvider();
  controls = new CompletionControls(context.globalState, () => showStatus(lastStatus));
  fetcher = new ModelFetcher({ log, server: () => started, restart: restartClient });
  partialHook = new PartialHook(
    (item, info) => {
      const arg = partials.report(item.command, item.insertText, info);
      if (arg) void reportAccepted(arg);
    },
    (err) => log.info(`Partial accepts (accept word, accept line) are not counted in the statistics: ${err instanceof Error ? err.message : err}`),
  );
  focus = new FocusReporter((params) => {
    if (client?.state === State.Running) void client.sendNotification(FOCUS_NOTIFICATION, params);
  });
  context.subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      reportFocus(editor);
      showStatus(lastStatus); // off for this language, or not
    }),
    vscode.window.onDidChangeTextEditorSelection((e) => reportFocus(e.textEditor)),
    log,
    statusItem,
    controls,
    vscode.workspace.registerTextDocumentContentProvider(EXPLAIN_SCHEME, pages),
    vscode.commands.registerCommand("enclave.explainSelection", explainSelection),
    vscode.commands.registerCommand("enclave.reviewFile", reviewFile),
    vscode.commands.registerCommand("enclave.refactor", refactor),
    vscode.commands.registerCommand("enclave.toggleCompletions", toggleCompletions),
    vscode.commands.registerCommand("enclave.toggleLanguage", toggleLanguage),
    vscode.commands.registerCommand("enclave.snooze", snoozeCompletions),
    vscode.commands.registerCommand("enclave.statusMenu", statusMenu),
    vscode.commands.registerCommand("enclave.showStatus", showServerStatus),
    vscode.commands.registerCommand("enclave.showStatistics", showStatistics),
    vscode.commands.registerCommand("enclave.fetchModel", () => {
      const size = missingModel(lastStatus) ?? controls.modelSize();
      return fetcher.fetch(size);
    }),
    vscode.commands.registerCommand("enclave.showLog", () => log.show(true)),
    vscode.commands.registerCommand("enclave.restartServer", restartClient),
    vscode.workspace.onDidChangeConfiguration((e) => {
      const change = classifyChange((s) => e.affectsConfiguration(s), manifestKeys, userOnly);
      if (change.userOnly) warnIgnored();
      // User-only settings reach the server only when it starts (initializationOptions).
      const userChanged =
        change.userOnly && !sameValues(userValues(userOnly, reader()), sentUserValues);
      showStatus(lastStatus); // completions on or off, here or for a language
      if (change.restart || userChanged) {
        void restartClient();
      } else if (change.server) {
        if (client?.state === State.Running) {
          void client.sendNotification(DidChangeConfigurationNotification.type, {
            settings: serverSettings(keys, userOnly, reader(), false),
          });
        }
      }
    }),
  );
  await startClient();
}

export function deactivate(): Promise<void> {
  return stopClient();
}
