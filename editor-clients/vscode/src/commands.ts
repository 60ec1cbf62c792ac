// The server's commands (workspace/executeCommand) and the guard that keeps them from clashing
// with commands VS Code already has. No `vscode` import: unit-tested with node.
//
// vscode-languageclient registers every command a server advertises as a VS Code command, and
// VS Code refuses a second registration of an id ("command '...' already exists"): the client
// then does not start at all. The server's own commands live under "enclave.lsp."; the guard
// makes the client safe whatever a server advertises.

/** The server's commands (lsp_server/handlers/commands.py). */
export const SERVER_COMMANDS = {
  explain: "enclave.lsp.explain",
  rewrite: "enclave.lsp.rewrite",
  refactor: "enclave.lsp.refactor",
  review: "enclave.lsp.review",
} as const;

/** The command ids a package.json contributes (contributes.commands[].command). */
export function contributedCommands(packageJSON: unknown): Set<string> {
  const commands = (packageJSON as { contributes?: { commands?: unknown } } | undefined)
    ?.contributes?.commands;
  const ids = new Set<string>();
  if (!Array.isArray(commands)) return ids;
  for (const entry of commands) {
    const id = (entry as { command?: unknown } | null)?.command;
    if (typeof id === "string") ids.add(id);
  }
  return ids;
}

export interface Dropped {
  command: unknown;
  why: string;
}

export interface Admission {
  allowed: string[];
  dropped: Dropped[];
}

/**
 * Which of a registration's commands may be registered: not one VS Code already has (the
 * extension's own, or any taken when the client started), not one another live registration
 * of this server holds, not twice in one list, and only non-empty strings. Admitting an id
 * again replaces what it held (the caller unregisters it first).
 */
export class CommandGuard {
  private readonly live = new Map<string, readonly string[]>();

  constructor(private readonly reserved: ReadonlySet<string>) {}

  has(registrationId: string): boolean {
    return this.live.has(registrationId);
  }

  admit(registrationId: string, commands: unknown): Admission {
    this.live.delete(registrationId);
    const allowed: string[] = [];
    const dropped: Dropped[] = [];
    const held = new Set<string>();
    for (const list of this.live.values()) for (const command of list) held.add(command);
    let list: readonly unknown[] = [];
    if (Array.isArray(commands)) list = commands;
    else if (commands !== undefined) dropped.push({ command: commands, why: "not a list" });
    for (const command of list) {
      let why = "";
      if (typeof command !== "string" || command.trim() === "") why = "not a command name";
      else if (this.reserved.has(command)) why = "VS Code already has a command of that name";
      else if (held.has(command)) why = "listed or registered twice";
      if (why) {
        dropped.push({ command, why });
        continue;
      }
      held.add(command as string);
      allowed.push(command as string);
    }
    this.live.set(registrationId, allowed);
    return { allowed, dropped };
  }

  release(registrationId: string): void {
    this.live.delete(registrationId);
  }

  clear(): void {
    this.live.clear();
  }
}

/** The part of vscode-languageclient's ExecuteCommandFeature the guard wraps. */
export interface CommandFeature {
  register(data: { id: string; registerOptions: { commands?: unknown } }): void;
  unregister(id: string): void;
  clear(): void;
}

/**
 * Make `feature` register only what `guard` admits (its initialize() and dynamic registrations
 * both go through register()); `warn` hears of every command dropped.
 */
export function guardFeature(
  feature: CommandFeature,
  guard: CommandGuard,
  warn: (message: string) => void,
): void {
  const register = feature.register.bind(feature);
  const unregister = feature.unregister.bind(feature);
  const clear = feature.clear.bind(feature);
  feature.register = (data) => {
    // The library would keep the earlier commands of a re-used id registered for good.
    if (guard.has(data.id)) unregister(data.id);
    const { allowed, dropped } = guard.admit(data.id, data.registerOptions.commands);
    for (const { command, why } of dropped) {
      warn(`Not registering the server's command ${JSON.stringify(command)}: ${why}.`);
    }
    register({ ...data, registerOptions: { ...data.registerOptions, commands: allowed } });
  };
  feature.unregister = (id) => {
    guard.release(id);
    unregister(id);
  };
  feature.clear = () => {
    guard.clear();
    clear();
  };
}

/** Whether a rewrite command still needs its instruction (a code action offers it without). */
export function needsInstruction(command: string, args: readonly unknown[]): boolean {
  if (command !== SERVER_COMMANDS.rewrite || args.length !== 1) return false;
  const arg = args[0];
  if (typeof arg !== "object" || arg === null) return false;
  const instruction = (arg as { instruction?: unknown }).instruction;
  return typeof instruction !== "string" || instruction.trim() === "";
}
