// Tests of scripts/sync-settings.mjs (plain JS, loaded at run time).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { isClientKey } from "../settings";
import { SERVER_USER_ONLY } from "./expected";

const EXT_DIR = resolve(__dirname, "..", "..");
const SCRIPT = join(EXT_DIR, "scripts", "sync-settings.mjs");

interface SyncModule {
  CLIENT_SETTINGS: Record<string, Record<string, unknown>>;
  configurationProperties(schema: unknown): Record<string, Record<string, unknown>>;
  updatedManifest(text: string, schema: unknown): string;
}

const load = (): Promise<SyncModule> => import(pathToFileURL(SCRIPT).href) as Promise<SyncModule>;

const SCHEMA = {
  properties: {
    "enclave.model.size": {
      description: "Bundled model.",
      default: "1.5b",
      type: "string",
      enum: ["1.5b", "0.5b"],
    },
    "enclave.model.path": {
      description: "A GGUF file.",
      default: null,
      type: ["string", "null"],
      "x-userOnly": true,
    },
    "enclave.completion.deadlineMs": {
      description: "Deadline.",
      default: 30000,
      type: "integer",
      minimum: 100,
      maximum: 600000,
      unknownField: "dropped",
    },
  },
};

test("server properties keep their fields and order; client settings follow", async () => {
  const sync = await load();
  const props = sync.configurationProperties(SCHEMA);
  assert.deepEqual(Object.keys(props), [
    "enclave.model.size",
    "enclave.model.path",
    "enclave.completion.deadlineMs",
    ...Object.keys(sync.CLIENT_SETTINGS),
  ]);
  assert.deepEqual(props["enclave.completion.deadlineMs"], {
    type: "integer",
    default: 30000,
    minimum: 100,
    maximum: 600000,
    description: "Deadline.",
    order: 2,
  });
  // User-only: scope "application" (never a workspace or folder); the marker itself is dropped.
  assert.equal(props["enclave.model.path"].scope, "application");
  assert.ok(!("x-userOnly" in props["enclave.model.path"]));
  assert.equal(props["enclave.model.size"].scope, undefined);
  assert.equal(props["enclave.server.path"].scope, "application");
  assert.equal(props["enclave.server.args"].scope, "application");
  assert.equal(props["enclave.trace.server"].scope, undefined);
  assert.deepEqual(props["enclave.server.args"].default, ["serve"]);
});

test("completion.enabled can be set per language; a user-only one cannot", async () => {
  const sync = await load();
  const enabled = { type: "boolean", default: true, description: "Offer inline completions." };
  const props = sync.configurationProperties({ properties: { "enclave.completion.enabled": enabled } });
  assert.equal(props["enclave.completion.enabled"].scope, "language-overridable");
  assert.match(String(props["enclave.completion.enabled"].description), /^Offer inline completions\. Set it per language/);
  const both = { properties: { "enclave.completion.enabled": { ...enabled, "x-userOnly": true } } };
  assert.throws(() => sync.configurationProperties(both), /both user-only and per language/);
  const manifest = JSON.parse(readFileSync(join(EXT_DIR, "package.json"), "utf8"));
  assert.equal(manifest.contributes.configuration.properties["enclave.completion.enabled"].scope, "language-overridable");
});

test("bad schemas are refused", async () => {
  const sync = await load();
  assert.throws(() => sync.configurationProperties({}), /no properties/);
  assert.throws(
    () => sync.configurationProperties({ properties: { "model.size": {} } }),
    /enclave\. prefix/,
  );
  assert.throws(
    () => sync.configurationProperties({ properties: { "enclave.server.path": {} } }),
    /clashes/,
  );
});

test("the manifest keeps everything else", async () => {
  const sync = await load();
  const text = JSON.stringify({ name: "x", contributes: { commands: [1] } }, null, 2);
  const out = JSON.parse(sync.updatedManifest(text, SCHEMA));
  assert.equal(out.name, "x");
  assert.deepEqual(out.contributes.commands, [1]);
  assert.equal(out.contributes.configuration.title, "Enclave");
  assert.ok("enclave.model.size" in out.contributes.configuration.properties);
  // Restricted in untrusted workspaces: exactly the user-only settings.
  assert.deepEqual(out.capabilities.untrustedWorkspaces.restrictedConfigurations, [
    "enclave.model.path",
    "enclave.server.path",
    "enclave.server.args",
  ]);
  assert.equal(out.capabilities.untrustedWorkspaces.supported, "limited");
});

test("the checkout's schema marks what routes code, reads a model file or writes files", () => {
  const code =
    "import json; from lsp_server.settings import json_schema; print(json.dumps(json_schema()))";
  const schema = JSON.parse(
    execFileSync("python3", ["-c", code], {
      encoding: "utf8",
      env: { ...process.env, PYTHONPATH: resolve(EXT_DIR, "..", "..") },
    }),
  );
  const marked = Object.entries(schema.properties as Record<string, Record<string, unknown>>)
    .filter(([, prop]) => prop["x-userOnly"] === true)
    .map(([key]) => key)
    .sort();
  assert.deepEqual(marked, SERVER_USER_ONLY);
});

test("--check fails on a stale package.json and passes after a sync (in a copy)", () => {
  const dir = mkdtempSync(join(tmpdir(), "enclave-sync-"));
  execFileSync("mkdir", ["-p", join(dir, "scripts")]);
  writeFileSync(join(dir, "scripts", "sync-settings.mjs"), readFileSync(SCRIPT));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "copy" }, null, 2) + "\n");
  const schemaFile = join(dir, "schema.json");
  writeFileSync(schemaFile, JSON.stringify(SCHEMA));
  const script = join(dir, "scripts", "sync-settings.mjs");
  const run = (...args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: "utf8" });
  const stale = run("--check", "--schema", schemaFile);
  assert.equal(stale.status, 1, stale.stderr);
  assert.match(stale.stderr, /differ/);
  assert.equal(run("--schema", schemaFile).status, 0);
  const fresh = run("--check", "--schema", schemaFile);
  assert.equal(fresh.status, 0, fresh.stderr);
  const written = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  assert.ok("enclave.completion.deadlineMs" in written.contributes.configuration.properties);
});

test("this package.json matches the checkout's server schema", () => {
  const result = spawnSync(process.execPath, [SCRIPT, "--check"], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
});

test("the manifest's server keys are exactly the schema's", async () => {
  const manifest = JSON.parse(readFileSync(join(EXT_DIR, "package.json"), "utf8"));
  const keys = Object.keys(manifest.contributes.configuration.properties);
  const sync = await load();
  for (const key of Object.keys(sync.CLIENT_SETTINGS)) assert.ok(keys.includes(key), key);
  assert.deepEqual(
    keys.filter((k) => isClientKey(k)),
    Object.keys(sync.CLIENT_SETTINGS),
  );
});
