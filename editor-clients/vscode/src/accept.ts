// Reporting accepted suggestions to the server (local statistics). No `vscode` import.
//
// Each inline item carries the server's command `enclave.lsp.accepted` ({id, uri});
// vscode-languageclient turns it into the VS Code item's command, which VS Code runs on a full
// accept (Tab). A partial accept (accept word / line) runs no command: VS Code tells the
// provider instead (handleDidPartiallyAcceptCompletionItem, the `inlineCompletionsAdditions`
// proposal), and the extension reports {id, uri, acceptedChars} with the running total.

export const ACCEPTED = "enclave.lsp.accepted";
const KEEP = 256; // the server remembers as many suggestion ids

export interface AcceptArgument {
  id: string;
  uri: string;
}

/** The {id, uri} of an item's command, if it is the server's acceptance report. */
export function acceptArgument(command: unknown): AcceptArgument | undefined {
  const c = command as { command?: unknown; arguments?: unknown } | null | undefined;
  if (!c || c.command !== ACCEPTED || !Array.isArray(c.arguments) || c.arguments.length !== 1) return undefined;
  const arg = c.arguments[0] as { id?: unknown; uri?: unknown } | null;
  if (typeof arg?.id !== "string" || typeof arg.uri !== "string") return undefined;
  return { id: arg.id, uri: arg.uri };
}

/** Code points (what the server counts) in the first `utf16Length` UTF-16 units of `text`. */
export function codePoints(text: string, utf16Length: number): number {
  if (!(utf16Length > 0)) return 0;
  let n = 0;
  for (let i = 0; i < text.length && i < utf16Length; n++) {
    const c = text.codePointAt(i)!;
    i += c > 0xffff ? 2 : 1;
  }
  return n;
}

/** VS Code passes the accepted length as a number, or (the newer form) in an object. */
export function acceptedLength(info: unknown): number | undefined {
  const n = typeof info === "number" ? info : (info as { acceptedLength?: unknown } | null)?.acceptedLength;
  return typeof n === "number" && Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * The running total of characters taken from each suggestion by partial accepts: a report
 * only when the total grew (VS Code tells twice per accept, in both forms).
 */
export class PartialAccepts {
  private readonly totals = new Map<string, number>();

  report(command: unknown, insertText: unknown, info: unknown): (AcceptArgument & { acceptedChars: number }) | undefined {
    const arg = acceptArgument(command);
    const length = acceptedLength(info);
    if (!arg || length === undefined || typeof insertText !== "string") return undefined;
    const chars = codePoints(insertText, length);
    const key = `${arg.uri}\n${arg.id}`;
    if (chars <= (this.totals.get(key) ?? 0)) return undefined;
    this.totals.delete(key); // newest last
    this.totals.set(key, chars);
    while (this.totals.size > KEEP) this.totals.delete(this.totals.keys().next().value as string);
    return { ...arg, acceptedChars: chars };
  }
}

/**
 * The language client's inline provider registered again with the partial-accept hook. VS Code
 * refuses (throws) a provider with the hook unless it grants the extension the proposal: then
 * the client's registration stays as it was, and `refused` says so for later registrations.
 */
export class PartialHook {
  refused = false;

  constructor(
    private readonly onPartial: (item: { command?: unknown; insertText?: unknown }, info: unknown) => void,
    private readonly onRefused: (err: unknown) => void,
  ) {}

  wrap<D extends { dispose(): void }, P extends { provideInlineCompletionItems: unknown }>(
    registered: [D, P],
    register: (provider: object) => D,
  ): [D, P] {
    if (this.refused) return registered;
    const [disposable, provider] = registered;
    const withHook = {
      provideInlineCompletionItems: provider.provideInlineCompletionItems,
      handleDidPartiallyAcceptCompletionItem: (item: { command?: unknown; insertText?: unknown }, info: unknown) =>
        this.onPartial(item, info),
    };
    let ours: D;
    try {
      ours = register(withHook);
    } catch (err) {
      this.refused = true;
      this.onRefused(err);
      return registered;
    }
    disposable.dispose();
    return [ours, withHook as unknown as P];
  }
}
