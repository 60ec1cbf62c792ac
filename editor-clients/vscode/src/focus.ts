// enclave/didFocus: tell the server where the cursor settles, so it can evaluate the prompt
// there before the first keystroke (LSP itself says nothing about the cursor).

export const FOCUS_NOTIFICATION = "enclave/didFocus";
export const FOCUS_DEBOUNCE_MS = 300;

export interface FocusParams {
  textDocument: { uri: string };
  position: { line: number; character: number };
}

type Timer = unknown;
export interface Clock {
  set(fn: () => void, ms: number): Timer;
  clear(timer: Timer): void;
}

export const realClock: Clock = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
};

/** Sends a focus after the cursor has been still for `delayMs`; not again for the same line of
 *  the same document (typing moves the cursor on every key, and the server already knows). */
export class FocusReporter {
  private timer: Timer | undefined;
  private last = "";

  constructor(
    private readonly send: (params: FocusParams) => void,
    private readonly delayMs = FOCUS_DEBOUNCE_MS,
    private readonly clock: Clock = realClock,
  ) {}

  moved(uri: string, line: number, character: number): void {
    if (this.timer !== undefined) this.clock.clear(this.timer);
    this.timer = this.clock.set(() => {
      this.timer = undefined;
      const key = `${uri}#${line}`;
      if (key === this.last) return;
      this.last = key;
      this.send({ textDocument: { uri }, position: { line, character } });
    }, this.delayMs);
  }

  /** Forget the last focus (e.g. the server restarted and knows nothing). */
  reset(): void {
    if (this.timer !== undefined) this.clock.clear(this.timer);
    this.timer = undefined;
    this.last = "";
  }
}
