import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  CommandFeature,
  CommandGuard,
  contributedCommands,
  guardFeature,
  needsInstruction,
  SERVER_COMMANDS,
} from "../commands";
import { random } from "./random";

const MANIFEST = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
const OWN = contributedCommands(MANIFEST);

/** VS Code's command registry: a second registration of an id throws, as VS Code does. */
class Registry {
  readonly ids = new Set<string>(OWN);
  register(id: string): { dispose(): void } {
    if (this.ids.has(id)) throw new Error(`command '${id}' already exists`);
    this.ids.add(id);
    return { dispose: () => this.ids.delete(id) };
  }
}

/** vscode-languageclient 11's ExecuteCommandFeature, the parts the guard wraps. */
class LibraryFeature implements CommandFeature {
  readonly commands = new Map<string, { dispose(): void }[]>();
  constructor(private readonly registry: Registry) {}
  register(data: { id: string; registerOptions: { commands?: unknown } }): void {
    const list = data.registerOptions.commands;
    if (!list) return;
    const disposables: { dispose(): void }[] = [];
    for (const command of list as string[]) disposables.push(this.registry.register(command));
    this.commands.set(data.id, disposables);
  }
  unregister(id: string): void {
    for (const d of this.commands.get(id) ?? []) d.dispose();
    this.commands.delete(id);
  }
  clear(): void {
    for (const id of [...this.commands.keys()]) this.unregister(id);
  }
}

function guarded(): { registry: Registry; feature: LibraryFeature; warnings: string[] } {
  const registry = new Registry();
  const feature = new LibraryFeature(registry);
  const warnings: string[] = [];
  guardFeature(feature, new CommandGuard(new Set(registry.ids)), (m) => warnings.push(m));
  return { registry, feature, warnings };
}

test("the manifest contributes the extension's own commands, none in the server's namespace", () => {
  for (const id of ["enclave.explainSelection", "enclave.reviewFile", "enclave.refactor"]) {
    assert.ok(OWN.has(id), id);
  }
  for (const id of Object.values(SERVER_COMMANDS)) assert.ok(!OWN.has(id), id);
  assert.ok([...OWN].every((id) => !id.startsWith("enclave.lsp.")));
});

test("contributedCommands reads only string ids", () => {
  assert.deepEqual([...contributedCommands(undefined)], []);
  assert.deepEqual([...contributedCommands({ contributes: { commands: "x" } })], []);
  const odd = { contributes: { commands: [{ command: "a" }, null, { command: 3 }, {}] } };
  assert.deepEqual([...contributedCommands(odd)], ["a"]);
});

test("the server's commands are registered as they are", () => {
  const { registry, feature, warnings } = guarded();
  feature.register({ id: "r1", registerOptions: { commands: Object.values(SERVER_COMMANDS) } });
  for (const id of Object.values(SERVER_COMMANDS)) assert.ok(registry.ids.has(id));
  assert.deepEqual(warnings, []);
});

test("a server advertising the extension's own enclave.refactor still starts (issue 18)", () => {
  const { registry, feature, warnings } = guarded();
  const advertised = ["enclave.explain", "enclave.refactor", "enclave.review", "enclave.rewrite"];
  feature.register({ id: "r1", registerOptions: { commands: advertised } });
  assert.ok(registry.ids.has("enclave.explain") && registry.ids.has("enclave.rewrite"));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /"enclave\.refactor".*already has a command/);
});

test("duplicates, non-strings and a list that is not a list are dropped, each said", () => {
  const { registry, feature, warnings } = guarded();
  feature.register({ id: "a", registerOptions: { commands: ["x", "x", "", " ", 7, null, "y"] } });
  assert.deepEqual([...feature.commands.get("a")!].length, 2);
  assert.ok(registry.ids.has("x") && registry.ids.has("y"));
  assert.equal(warnings.length, 5);
  feature.register({ id: "b", registerOptions: { commands: "enclave.lsp.review" } });
  assert.ok(!registry.ids.has("enclave.lsp.review"));
  assert.match(warnings[5], /not a list/);
});

test("a dynamic registration of a command a live one holds is dropped; unregister frees it", () => {
  const { registry, feature, warnings } = guarded();
  feature.register({ id: "a", registerOptions: { commands: ["enclave.lsp.review"] } });
  feature.register({ id: "b", registerOptions: { commands: ["enclave.lsp.review", "z"] } });
  assert.equal(warnings.length, 1);
  feature.unregister("a");
  assert.ok(!registry.ids.has("enclave.lsp.review"));
  feature.register({ id: "c", registerOptions: { commands: ["enclave.lsp.review"] } });
  assert.ok(registry.ids.has("enclave.lsp.review"));
});

test("an id registered again replaces its commands instead of leaking them", () => {
  const { registry, feature } = guarded();
  feature.register({ id: "a", registerOptions: { commands: ["p", "q"] } });
  feature.register({ id: "a", registerOptions: { commands: ["q", "r"] } });
  assert.ok(!registry.ids.has("p") && registry.ids.has("q") && registry.ids.has("r"));
  feature.clear();
  for (const id of ["p", "q", "r"]) assert.ok(!registry.ids.has(id), id);
  feature.register({ id: "a", registerOptions: { commands: ["p", "q", "r"] } });
  assert.ok(registry.ids.has("p"));
});

test("whatever a server advertises, registers and unregisters, VS Code never sees a clash", () => {
  const names: unknown[] = [...OWN, ...Object.values(SERVER_COMMANDS), "a", "b", "", 1, null, {}];
  for (let seed = 1; seed <= 2000; seed++) {
    const { next, pick, int } = random(seed);
    const { registry, feature } = guarded();
    const ids = ["r1", "r2", "r3"];
    for (let step = 0; step < 12; step++) {
      const op = next();
      try {
        if (op < 0.6) {
          const commands = Array.from({ length: int(6) }, () => pick(names));
          feature.register({ id: pick(ids), registerOptions: { commands } });
        } else if (op < 0.9) {
          feature.unregister(pick(ids));
        } else {
          feature.clear();
        }
      } catch (err) {
        assert.fail(`seed ${seed}, step ${step}: ${err}`);
      }
      // What the feature holds is exactly what VS Code has beyond the reserved commands.
      const held = [...feature.commands.values()].flat().length;
      assert.equal(registry.ids.size, OWN.size + held, `seed ${seed}, step ${step}`);
    }
  }
});

test("a rewrite without its instruction asks for one; other commands pass", () => {
  const where = { uri: "file:///a.py", range: {} };
  assert.ok(needsInstruction(SERVER_COMMANDS.rewrite, [where]));
  assert.ok(needsInstruction(SERVER_COMMANDS.rewrite, [{ ...where, instruction: "  " }]));
  assert.ok(!needsInstruction(SERVER_COMMANDS.rewrite, [{ ...where, instruction: "shorter" }]));
  assert.ok(!needsInstruction(SERVER_COMMANDS.review, [where]));
  assert.ok(!needsInstruction(SERVER_COMMANDS.rewrite, []));
  assert.ok(!needsInstruction(SERVER_COMMANDS.rewrite, [null]));
});
