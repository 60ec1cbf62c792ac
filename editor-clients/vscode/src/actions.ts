// Pure helpers for the server's code actions and command results.

export interface ActionLike {
  title: string;
  kind?: string;
  edit?: unknown;
  command?: unknown;
  disabled?: { reason: string };
}

/** Enclave's own code actions ("Enclave: ...", "Fix with Enclave"), enabled ones first. */
export function enclaveActions<T extends ActionLike>(items: readonly (T | { command: string })[]): T[] {
  const actions = items.filter(
    (item): item is T =>
      typeof (item as ActionLike).title === "string" &&
      typeof item.command !== "string" &&
      /^(Enclave\b|Fix with Enclave\b)/.test((item as ActionLike).title),
  );
  return [...actions.filter((a) => !a.disabled), ...actions.filter((a) => a.disabled)];
}

/** Does a command's result look like an LSP WorkspaceEdit? */
export function isWorkspaceEdit(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.changes === "object" || Array.isArray(v.documentChanges);
}

/** "N findings" with the right plural. */
export function findingsText(n: number): string {
  return n === 1 ? "1 finding" : `${n} findings`;
}

/** A file name safe for a virtual document path. */
export function safeName(text: string): string {
  return text.replace(/[^\w.-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 80) || "explanation";
}
