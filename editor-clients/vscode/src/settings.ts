// Pure helpers for the extension's settings: which keys go to the server, and the nested form
// the server takes ({"model": {"size": "0.5b"}}). No `vscode` import: unit-tested with node.
//
// User-only settings (where code goes, which model file is read, where logs are written, what
// runs) are the manifest's restrictedConfigurations, generated from the server's schema by
// scripts/sync-settings.mjs. They are read from the user's own settings only (VS Code's
// inspect(): the global value, else the default), whatever scope the manifest gives them, and
// reach the server only in initializationOptions: a change restarts the server.

export const SECTION = "enclave";

/** Settings the extension itself reads; never sent to the server (it would warn about them). */
export const CLIENT_PREFIXES: readonly string[] = ["enclave.server.", "enclave.trace."];

export function isClientKey(key: string): boolean {
  return CLIENT_PREFIXES.some((prefix) => key.startsWith(prefix));
}

/** The dotted keys of the contributed settings that belong to the server, in manifest order. */
export function serverKeys(properties: Record<string, unknown> | undefined): string[] {
  return Object.keys(properties ?? {}).filter(
    (key) => key.startsWith(SECTION + ".") && !isClientKey(key),
  );
}

/** The user-only keys of a manifest: capabilities.untrustedWorkspaces.restrictedConfigurations. */
export function userOnlyKeys(packageJSON: unknown): Set<string> {
  const list = (
    packageJSON as
      | { capabilities?: { untrustedWorkspaces?: { restrictedConfigurations?: unknown } } }
      | undefined
  )?.capabilities?.untrustedWorkspaces?.restrictedConfigurations;
  return new Set(Array.isArray(list) ? list.filter((k): k is string => typeof k === "string") : []);
}

/**
 * Dotted keys ("enclave.model.size") and their values to the nested object the server takes
 * ({model: {size: ...}}). Undefined values are left out, so the server keeps its default.
 */
export function toNested(values: Record<string, unknown>): Record<string, unknown> {
  const nested: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const parts = key.startsWith(SECTION + ".")
      ? key.slice(SECTION.length + 1).split(".")
      : key.split(".");
    let node = nested;
    for (const part of parts.slice(0, -1)) {
      const child = node[part];
      if (typeof child !== "object" || child === null || Array.isArray(child)) {
        node[part] = {};
      }
      node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
  }
  return nested;
}

/** What VS Code's WorkspaceConfiguration.inspect() returns (the parts read here). */
export interface Inspected {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
  defaultLanguageValue?: unknown;
  globalLanguageValue?: unknown;
  workspaceLanguageValue?: unknown;
  workspaceFolderLanguageValue?: unknown;
}

/** Where a repository can put a value: the places a user-only value is never taken from. */
const NOT_USER: readonly (keyof Inspected)[] = [
  "workspaceValue",
  "workspaceFolderValue",
  "workspaceLanguageValue",
  "workspaceFolderLanguageValue",
];

/** A user-only setting's value: the user's own (global) value, else the default. */
export function userValue(inspected: Inspected | undefined): unknown {
  if (inspected === undefined) return undefined;
  return inspected.globalValue !== undefined ? inspected.globalValue : inspected.defaultValue;
}

/** The places (workspace, folder, ...) that hold a value the extension does not take. */
export function ignoredPlaces(inspected: Inspected | undefined): string[] {
  if (inspected === undefined) return [];
  return NOT_USER.filter((place) => inspected[place] !== undefined);
}

/** How settings are read: the merged value and the inspection, by key without "enclave.". */
export interface SettingsReader {
  get(key: string): unknown;
  inspect(key: string): Inspected | undefined;
}

function short(key: string): string {
  return key.startsWith(SECTION + ".") ? key.slice(SECTION.length + 1) : key;
}

/** The user's own values of the user-only keys, by dotted key (for a restart decision). */
export function userValues(
  userOnly: ReadonlySet<string>,
  read: SettingsReader,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const key of [...userOnly].sort()) values[key] = userValue(read.inspect(short(key)));
  return values;
}

/**
 * The server's settings, nested: user-only keys from the user's values (only when `withUserOnly`:
 * initializationOptions), the others as VS Code merges them.
 */
export function serverSettings(
  keys: readonly string[],
  userOnly: ReadonlySet<string>,
  read: SettingsReader,
  withUserOnly: boolean,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const key of keys) {
    if (!userOnly.has(key)) values[key] = read.get(short(key));
    else if (withUserOnly) values[key] = userValue(read.inspect(short(key)));
  }
  return toNested(values);
}

/** Values equal as JSON (settings are JSON). */
export function sameValues(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What a configuration change touches; a restart sends everything again. */
export interface ConfigChange {
  restart: boolean; // a client setting the server is started with (trace)
  userOnly: boolean; // a user-only setting: restart if the user's own value changed
  server: boolean; // another server setting: send it (workspace/didChangeConfiguration)
}

/** Classify a change over the manifest's keys (`affects`: VS Code's affectsConfiguration). */
export function classifyChange(
  affects: (section: string) => boolean,
  manifestKeys: readonly string[],
  userOnly: ReadonlySet<string>,
): ConfigChange {
  const touched = manifestKeys.filter((key) => affects(key));
  return {
    restart: touched.some((key) => isClientKey(key) && !userOnly.has(key)),
    userOnly: touched.some((key) => userOnly.has(key)),
    server: touched.some((key) => !isClientKey(key) && !userOnly.has(key)),
  };
}

/**
 * A workspace/configuration answer with every user-only value replaced by the user's own: the
 * client answers the server's pulls from the merged configuration, which a workspace can set.
 * `section` is the item's section (null: the whole configuration); `answer` its value.
 */
export function scrubAnswer(
  section: string | null | undefined,
  answer: unknown,
  user: Readonly<Record<string, unknown>>,
): unknown {
  let result = answer;
  for (const [key, value] of Object.entries(user)) {
    if (section === key) {
      result = value === undefined ? null : value;
      continue;
    }
    const prefix = section ? section + "." : "";
    if (!key.startsWith(prefix)) continue;
    const path = key.slice(prefix.length).split(".");
    result = replaceAt(result, path, value);
  }
  return result;
}

function replaceAt(node: unknown, path: readonly string[], value: unknown): unknown {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return node;
  const copy: Record<string, unknown> = { ...(node as Record<string, unknown>) };
  const [head, ...rest] = path;
  if (rest.length === 0) {
    if (value === undefined) delete copy[head];
    else copy[head] = value;
  } else if (head in copy) {
    copy[head] = replaceAt(copy[head], rest, value);
  }
  return copy;
}
