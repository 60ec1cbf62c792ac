// The user's switches for inline completions, read and written in VS Code's settings: on/off
// (the server's global switch too), per language (the extension's own: the server never sees a
// language's value), a snooze (kept across reloads in globalState), and the model size.
import * as vscode from "vscode";
import {
  clockTime,
  languageName,
  LANGUAGES,
  languageValue,
  Snooze,
  suppressed,
  Suppressed,
  Target,
  updateTarget,
} from "./gate";
import { realClock } from "./focus";
import { SECTION } from "./settings";
import type { ClientView } from "./status";

const ENABLED = "completion.enabled";
const SNOOZE_KEY = "enclave.snoozedUntil";
const TARGETS: Record<Target, vscode.ConfigurationTarget> = {
  global: vscode.ConfigurationTarget.Global,
  workspace: vscode.ConfigurationTarget.Workspace,
  workspaceFolder: vscode.ConfigurationTarget.WorkspaceFolder,
};

export interface Language {
  id: string;
  name: string;
  enabled: boolean;
}

export class CompletionControls implements vscode.Disposable {
  readonly snooze: Snooze;

  constructor(
    private readonly state: vscode.Memento,
    changed: () => void,
  ) {
    this.snooze = new Snooze((until) => {
      void this.state.update(SNOOZE_KEY, until);
      changed();
    }, realClock);
    this.snooze.restore(this.state.get(SNOOZE_KEY));
  }

  dispose(): void {
    this.snooze.dispose();
  }

  /** The value the server has: enclave.completion.enabled without any language's value. */
  globalEnabled(): boolean {
    return vscode.workspace.getConfiguration(SECTION).get<boolean>(ENABLED, true);
  }

  /** The document's language, if Enclave serves it, and whether it is on there. */
  language(doc: vscode.TextDocument | undefined): Language | undefined {
    if (!doc || !LANGUAGES.includes(doc.languageId)) return undefined;
    const cfg = vscode.workspace.getConfiguration(SECTION, { languageId: doc.languageId, uri: doc.uri });
    const enabled = languageValue(cfg.inspect(ENABLED), this.globalEnabled());
    return { id: doc.languageId, name: languageName(doc.languageId), enabled };
  }

  /** Why the extension asks for no completion in this document (undefined: it asks). */
  suppressedFor(doc: vscode.TextDocument | undefined): Suppressed | undefined {
    return suppressed({
      globalEnabled: this.globalEnabled(),
      languageEnabled: this.language(doc)?.enabled ?? true,
      snoozedUntil: this.snooze.until,
      now: Date.now(),
    });
  }

  view(doc: vscode.TextDocument | undefined): ClientView {
    const until = this.snooze.until;
    return {
      suppressed: this.suppressedFor(doc),
      language: this.language(doc)?.name,
      snoozedUntil: until === undefined ? undefined : clockTime(until),
    };
  }

  /** Turn completions on or off where the value that counts is (the user's settings if none). */
  async setGlobal(enable: boolean): Promise<void> {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    await cfg.update(ENABLED, enable, TARGETS[updateTarget(cfg.inspect(ENABLED), false)]);
  }

  /** "[python]": {"enclave.completion.enabled": false}, or that entry taken away again. */
  async setLanguage(doc: vscode.TextDocument, enable: boolean): Promise<void> {
    const scope = { languageId: doc.languageId, uri: doc.uri };
    let cfg = vscode.workspace.getConfiguration(SECTION, scope);
    const target = TARGETS[updateTarget(cfg.inspect(ENABLED), true)];
    await cfg.update(ENABLED, enable ? undefined : false, target, true);
    cfg = vscode.workspace.getConfiguration(SECTION, scope);
    // Another place may still say false for the language: then say true where it counts.
    if (enable && !languageValue(cfg.inspect(ENABLED), this.globalEnabled())) {
      await cfg.update(ENABLED, true, TARGETS[updateTarget(cfg.inspect(ENABLED), true)], true);
    }
  }

  async setModelSize(size: string): Promise<void> {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    await cfg.update("model.size", size, TARGETS[updateTarget(cfg.inspect("model.size"), false)]);
  }

  modelSize(): string {
    return vscode.workspace.getConfiguration(SECTION).get<string>("model.size", "1.5b");
  }
}
