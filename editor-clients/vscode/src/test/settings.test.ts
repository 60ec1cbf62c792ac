import assert from "node:assert/strict";
import { test } from "node:test";
import { classifyChange, isClientKey, serverKeys, serverSettings, toNested } from "../settings";

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

test("serverSettings reads each key without the section prefix", () => {
  const seen: string[] = [];
  const values: Record<string, unknown> = { "model.size": "0.5b", "log.level": "debug" };
  const nested = serverSettings(["enclave.model.size", "enclave.log.level"], (key) => {
    seen.push(key);
    return values[key];
  });
  assert.deepEqual(seen, ["model.size", "log.level"]);
  assert.deepEqual(nested, { model: { size: "0.5b" }, log: { level: "debug" } });
});

test("a change of server.* restarts; a change of a server key is sent; others ignored", () => {
  const keys = ["enclave.model.size", "enclave.completion.enabled"];
  const affects = (changed: string[]) => (section: string) =>
    changed.some((c) => c === section || c.startsWith(section + "."));
  assert.equal(classifyChange(affects(["enclave.server.path"]), keys), "restart");
  assert.equal(classifyChange(affects(["enclave.completion.enabled"]), keys), "server");
  assert.equal(classifyChange(affects(["editor.fontSize"]), keys), "none");
});
