// Pure helpers for the extension's settings: which keys go to the server, and the nested form
// the server takes ({"model": {"size": "0.5b"}}). No `vscode` import: unit-tested with node.

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

/** The server's settings, read through `get` (a dotted key without the "enclave." prefix). */
export function serverSettings(
  keys: readonly string[],
  get: (key: string) => unknown,
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const key of keys) values[key] = get(key.slice(SECTION.length + 1));
  return toNested(values);
}

export type ConfigChange = "none" | "restart" | "server";

/** What a configuration change means: restart the server, tell it, or nothing. */
export function classifyChange(
  affects: (section: string) => boolean,
  keys: readonly string[],
): ConfigChange {
  if (CLIENT_PREFIXES.some((prefix) => affects(prefix.slice(0, -1)))) return "restart";
  return keys.some((key) => affects(key)) ? "server" : "none";
}
