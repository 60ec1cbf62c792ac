import assert from "node:assert/strict";
import { test } from "node:test";
import { Clock, FocusParams, FocusReporter } from "../focus";

class ManualClock implements Clock {
  private pending = new Map<number, () => void>();
  private next = 0;
  set(fn: () => void): number {
    this.pending.set(++this.next, fn);
    return this.next;
  }
  clear(timer: unknown): void {
    this.pending.delete(timer as number);
  }
  fire(): void {
    const fns = [...this.pending.values()];
    this.pending.clear();
    fns.forEach((fn) => fn());
  }
}

test("only the position where the cursor settles is sent", () => {
  const sent: FocusParams[] = [];
  const clock = new ManualClock();
  const focus = new FocusReporter((p) => sent.push(p), 300, clock);
  focus.moved("file:///a.py", 1, 0);
  focus.moved("file:///a.py", 5, 2);
  focus.moved("file:///b.py", 7, 4);
  clock.fire();
  assert.deepEqual(sent, [{ textDocument: { uri: "file:///b.py" }, position: { line: 7, character: 4 } }]);
});

test("typing along one line is not sent again; a new line or file is", () => {
  const sent: FocusParams[] = [];
  const clock = new ManualClock();
  const focus = new FocusReporter((p) => sent.push(p), 300, clock);
  for (const [uri, line, ch] of [["file:///a.py", 3, 1], ["file:///a.py", 3, 9], ["file:///a.py", 4, 0], ["file:///b.py", 4, 0]] as const) {
    focus.moved(uri, line, ch);
    clock.fire();
  }
  assert.deepEqual(
    sent.map((p) => `${p.textDocument.uri}:${p.position.line}:${p.position.character}`),
    ["file:///a.py:3:1", "file:///a.py:4:0", "file:///b.py:4:0"],
  );
  focus.reset();
  focus.moved("file:///b.py", 4, 0);
  clock.fire();
  assert.equal(sent.length, 4, "after a reset the same place is sent again");
});
