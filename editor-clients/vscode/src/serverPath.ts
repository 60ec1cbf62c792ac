// Pure resolution of the command that starts `enclave serve`; the file system is injected.
import * as path from "node:path";

export interface ResolveInput {
  configuredPath?: string | null; // enclave.server.path
  configuredArgs?: readonly string[] | null; // enclave.server.args
  extensionPath: string; // where the extension is installed (or the checkout's folder)
  envPath?: string; // PATH
  platform: string; // process.platform
  home?: string;
  isExecutable: (file: string) => boolean;
}

export interface ServerCommand {
  command: string;
  args: string[];
  source: "setting" | "checkout" | "path";
}

export const DEFAULT_ARGS: readonly string[] = ["serve"];

export class ServerNotFound extends Error {}

function pathApi(platform: string): path.PlatformPath {
  return platform === "win32" ? path.win32 : path.posix;
}

function expandHome(file: string, home: string | undefined): string {
  if (home && (file === "~" || file.startsWith("~/") || file.startsWith("~\\"))) {
    return home + file.slice(1);
  }
  return file;
}

/** The venv's `enclave` of the checkout this extension sits in (editor-clients/vscode). */
export function checkoutCandidates(extensionPath: string, platform: string): string[] {
  const p = pathApi(platform);
  const root = p.resolve(extensionPath, "..", "..");
  return platform === "win32"
    ? [p.join(root, ".venv", "Scripts", "enclave.exe")]
    : [p.join(root, ".venv", "bin", "enclave")];
}

export function findOnPath(
  name: string,
  envPath: string | undefined,
  platform: string,
  isExecutable: (file: string) => boolean,
): string | undefined {
  const p = pathApi(platform);
  const sep = platform === "win32" ? ";" : ":";
  const names = platform === "win32" ? [name + ".exe", name + ".cmd", name] : [name];
  for (const dir of (envPath ?? "").split(sep)) {
    if (!dir) continue;
    for (const n of names) {
      const file = p.join(dir, n);
      if (isExecutable(file)) return file;
    }
  }
  return undefined;
}

/**
 * The server command: the setting if given, else the checkout's virtual environment, else
 * `enclave` on PATH. Throws ServerNotFound with what was tried.
 */
export function resolveServer(input: ResolveInput): ServerCommand {
  const args = input.configuredArgs?.length ? [...input.configuredArgs] : [...DEFAULT_ARGS];
  const configured = input.configuredPath?.trim();
  if (configured) {
    const command = expandHome(configured, input.home);
    const p = pathApi(input.platform);
    if (p.isAbsolute(command) || command.includes("/") || command.includes("\\")) {
      if (!input.isExecutable(command)) {
        throw new ServerNotFound(
          `enclave.server.path is set to ${command}, which is not an executable file.`,
        );
      }
      return { command, args, source: "setting" };
    }
    const found = findOnPath(command, input.envPath, input.platform, input.isExecutable);
    if (!found) {
      throw new ServerNotFound(`enclave.server.path is set to ${command}, not found on PATH.`);
    }
    return { command: found, args, source: "setting" };
  }
  const tried: string[] = [];
  for (const candidate of checkoutCandidates(input.extensionPath, input.platform)) {
    tried.push(candidate);
    if (input.isExecutable(candidate)) return { command: candidate, args, source: "checkout" };
  }
  const onPath = findOnPath("enclave", input.envPath, input.platform, input.isExecutable);
  if (onPath) return { command: onPath, args, source: "path" };
  throw new ServerNotFound(
    `Could not find the Enclave server: tried ${tried.join(", ")} and "enclave" on PATH. ` +
      "Install it (pip install -e . in the Enclave checkout, or run `make install` there) " +
      "or set enclave.server.path.",
  );
}
