import assert from "node:assert/strict";
import { test } from "node:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  classifyChange,
  ignoredPlaces,
  Inspected,
  isClientKey,
  sameValues,
  scrubAnswer,
  serverKeys,
  serverSettings,
  SettingsReader,
  toNested,
  userOnlyKeys,
  userValue,
  userValues,
} from "../settings";
import { SERVER_USER_ONLY } from "./expected";
import { random } from "./random";

const MANIFEST = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
const PROPERTIES: Record<string, { scope?: string; default?: unknown }> =
  MANIFEST.contributes.configuration.properties;
const MANIFEST_KEYS = Object.keys(PROPERTIES);
const USER_ONLY = userOnlyKeys(MANIFEST);
const SERVER_KEYS = serverKeys(PROPERTIES);

test("dotted keys become the nested form the server takes", () => {
  assert.deepEqual(
    toNested({
      "enclave.model.size": "0.5b",
      "enclave.model.path": null,
      "enclave.completion.enabled": false,
      "enclave.completion.deadlineMs": 5000,
      "enclave.log.level": undefined,
    }),
    {
      model: { size: "0.5b", path: null },
      completion: { enabled: false, deadlineMs: 5000 },
    },
  );
});

test("keys without the prefix are nested too", () => {
  assert.deepEqual(toNested({ "model.size": "1.5b" }), { model: { size: "1.5b" } });
});

test("client-only settings are never sent to the server", () => {
  const props = {
    "enclave.model.size": {},
    "enclave.server.path": {},
    "enclave.server.args": {},
    "enclave.trace.server": {},
    "enclave.log.level": {},
    "other.thing": {},
  };
  assert.deepEqual(serverKeys(props), ["enclave.model.size", "enclave.log.level"]);
  assert.ok(isClientKey("enclave.server.path"));
  assert.ok(!isClientKey("enclave.serverish"));
  assert.deepEqual(serverKeys(undefined), []);
});

/** A reader over inspections by key (without "enclave."), merged as VS Code merges them. */
function readerOf(inspections: Record<string, Inspected>): SettingsReader {
  const merged = (i: Inspected | undefined): unknown =>
    i === undefined
      ? undefined
      : [i.workspaceFolderValue, i.workspaceValue, i.globalValue, i.defaultValue].find(
          (v) => v !== undefined,
        );
  return { get: (key) => merged(inspections[key]), inspect: (key) => inspections[key] };
}

const short = (key: string): string => key.slice("enclave.".length);

test("serverSettings reads each key without the section prefix", () => {
  const read = readerOf({
    "model.size": { defaultValue: "1.5b", globalValue: "0.5b" },
    "log.level": { defaultValue: "info", workspaceValue: "debug" },
  });
  const nested = serverSettings(["enclave.model.size", "enclave.log.level"], new Set(), read, true);
  assert.deepEqual(nested, { model: { size: "0.5b" }, log: { level: "debug" } });
});

test("the user-only settings: what routes code, reads a model file, writes files or runs", () => {
  const expected = [...SERVER_USER_ONLY, "enclave.server.args", "enclave.server.path"];
  assert.deepEqual([...USER_ONLY].sort(), expected.sort());
  // No workspace or folder can set them: VS Code's "application" scope, for every one.
  for (const key of MANIFEST_KEYS) {
    assert.equal(PROPERTIES[key].scope === "application", USER_ONLY.has(key), key);
  }
  assert.deepEqual([...userOnlyKeys(undefined)], []);
  assert.deepEqual([...userOnlyKeys({ capabilities: { untrustedWorkspaces: {} } })], []);
});

test("a user-only value is the user's own, else the default; never a workspace's", () => {
  assert.equal(userValue(undefined), undefined);
  assert.equal(userValue({ defaultValue: "local" }), "local");
  assert.equal(userValue({ defaultValue: "local", globalValue: "openai" }), "openai");
  assert.equal(userValue({ defaultValue: null, globalValue: null, workspaceValue: "x" }), null);
  const values = ["local", "openai", "http://10.0.0.1:1", "", null, 0, false, ["evil"], undefined];
  for (let seed = 1; seed <= 2000; seed++) {
    const { pick } = random(seed);
    const inspected: Inspected = {
      defaultValue: pick(values),
      globalValue: pick(values),
      workspaceValue: pick(values),
      workspaceFolderValue: pick(values),
      workspaceLanguageValue: pick(values),
      workspaceFolderLanguageValue: pick(values),
      globalLanguageValue: pick(values),
      defaultLanguageValue: pick(values),
    };
    const expected =
      inspected.globalValue !== undefined ? inspected.globalValue : inspected.defaultValue;
    assert.equal(userValue(inspected), expected, `seed ${seed}`);
    const places = ignoredPlaces(inspected);
    assert.equal(places.includes("workspaceValue"), inspected.workspaceValue !== undefined);
    assert.equal(places.length > 0, [
      inspected.workspaceValue,
      inspected.workspaceFolderValue,
      inspected.workspaceLanguageValue,
      inspected.workspaceFolderLanguageValue,
    ].some((v) => v !== undefined));
  }
});

/** A repository's .vscode/settings.json setting every key, over the user's and defaults. */
function hostileInspections(seed: number): {
  read: SettingsReader;
  user: Record<string, unknown>;
} {
  const { pick, next } = random(seed);
  const inspections: Record<string, Inspected> = {};
  const user: Record<string, unknown> = {};
  for (const key of MANIFEST_KEYS) {
    const i: Inspected = { defaultValue: PROPERTIES[key].default };
    if (next() < 0.5) i.globalValue = pick(["user-choice", null, ["u"], 7]);
    i.workspaceValue = pick(["http://attacker:9", "/tmp/evil.gguf", ["evil.example"], "openai"]);
    if (next() < 0.5) i.workspaceFolderValue = pick(["folder-evil", ["x"]]);
    inspections[short(key)] = i;
    user[key] = i.globalValue !== undefined ? i.globalValue : i.defaultValue;
  }
  return { read: readerOf(inspections), user };
}

function at(nested: unknown, key: string): unknown {
  let node = nested;
  for (const part of short(key).split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

test("initializationOptions carry the user's own user-only values, whatever a workspace sets", () => {
  for (let seed = 1; seed <= 500; seed++) {
    const { read, user } = hostileInspections(seed);
    const init = serverSettings(SERVER_KEYS, USER_ONLY, read, true);
    for (const key of SERVER_KEYS) {
      const expected = USER_ONLY.has(key) ? user[key] : read.get(short(key));
      assert.deepEqual(at(init, key), expected, `seed ${seed}: ${key}`);
    }
    // A later change (didChangeConfiguration) carries no user-only key at all.
    const change = serverSettings(SERVER_KEYS, USER_ONLY, read, false);
    for (const key of USER_ONLY) assert.equal(at(change, key), undefined, `seed ${seed}: ${key}`);
    assert.deepEqual(userValues(USER_ONLY, read), Object.fromEntries(
      [...USER_ONLY].sort().map((k) => [k, user[k]]),
    ));
  }
});

/** What vscode-languageclient answers for a workspace/configuration item (merged values). */
function pulled(section: string | null, read: SettingsReader): unknown {
  const all = toNested(Object.fromEntries(MANIFEST_KEYS.map((k) => [k, read.get(short(k))])));
  const whole = { enclave: all, editor: { fontSize: 12 } };
  if (section === null) return whole;
  let node: unknown = whole;
  for (const part of section.split(".")) node = (node as Record<string, unknown> | undefined)?.[part];
  return node === undefined ? null : node;
}

test("the server's configuration pulls get the user's own user-only values", () => {
  const sections = [
    null, "enclave", "enclave.backend", "enclave.backend.url", "enclave.model", "enclave.log.file",
    "enclave.server", "enclave.completion", "editor", "enclave.backendx", "enclaves",
  ];
  for (let seed = 1; seed <= 300; seed++) {
    const { read, user } = hostileInspections(seed);
    const own = userValues(USER_ONLY, read); // what the extension passes: user-only keys only
    for (const section of sections) {
      const answer = scrubAnswer(section, pulled(section, read), own);
      for (const key of USER_ONLY) {
        const full = section === null ? key : key === section ? "" : key.startsWith(section + ".")
          ? key.slice(section.length + 1) : undefined;
        if (full === undefined) continue;
        let node: unknown = answer;
        if (full !== "") for (const part of full.split(".")) node = (node as Record<string, unknown>)[part];
        const expected = user[key] === undefined ? null : user[key];
        assert.deepEqual(node ?? null, expected, `seed ${seed}, section ${section}: ${key}`);
      }
      // Everything else is as the client answered.
      if (section === "editor" || section === "enclave.completion") {
        assert.deepEqual(answer, pulled(section, read));
      }
    }
  }
});

test("a change: trace restarts, a user-only key is checked, other server keys are sent", () => {
  const affects = (changed: string[]) => (section: string) =>
    changed.some((c) => c === section || c.startsWith(section + "."));
  const classify = (changed: string[]) =>
    classifyChange(affects(changed), MANIFEST_KEYS, USER_ONLY);
  assert.deepEqual(classify(["enclave.trace.server"]), { restart: true, userOnly: false, server: false });
  assert.deepEqual(classify(["enclave.server.path"]), { restart: false, userOnly: true, server: false });
  assert.deepEqual(classify(["enclave.backend.url"]), { restart: false, userOnly: true, server: false });
  assert.deepEqual(classify(["enclave.completion.enabled"]), { restart: false, userOnly: false, server: true });
  assert.deepEqual(classify(["enclave.backend.url", "enclave.model.size"]), {
    restart: false,
    userOnly: true,
    server: true,
  });
  assert.deepEqual(classify(["editor.fontSize"]), { restart: false, userOnly: false, server: false });
  assert.ok(sameValues({ a: [1] }, { a: [1] }) && !sameValues({ a: null }, {}));
});
