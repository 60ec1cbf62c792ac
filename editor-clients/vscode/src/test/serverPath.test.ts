import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveServer, ServerNotFound } from "../serverPath";

const EXT = "/src/enclave/editor-clients/vscode";
const VENV = "/src/enclave/.venv/bin/enclave";

function files(...present: string[]): (file: string) => boolean {
  return (file) => present.includes(file);
}

test("the setting wins, with its args", () => {
  const cmd = resolveServer({
    configuredPath: "/opt/enclave/bin/enclave",
    configuredArgs: ["serve", "--log-level", "debug"],
    extensionPath: EXT,
    platform: "linux",
    isExecutable: files("/opt/enclave/bin/enclave", VENV),
  });
  assert.deepEqual(cmd, {
    command: "/opt/enclave/bin/enclave",
    args: ["serve", "--log-level", "debug"],
    source: "setting",
  });
});

test("a configured ~ path is expanded; a bare name is looked up on PATH", () => {
  const home = resolveServer({
    configuredPath: "~/bin/enclave",
    extensionPath: EXT,
    platform: "linux",
    home: "/home/u",
    isExecutable: files("/home/u/bin/enclave"),
  });
  assert.equal(home.command, "/home/u/bin/enclave");
  assert.deepEqual(home.args, ["serve"]);
  const bare = resolveServer({
    configuredPath: "enclave-dev",
    extensionPath: EXT,
    envPath: "/usr/bin:/opt/x",
    platform: "linux",
    isExecutable: files("/opt/x/enclave-dev"),
  });
  assert.equal(bare.command, "/opt/x/enclave-dev");
});

test("a configured path that is not executable is an error naming it", () => {
  assert.throws(
    () =>
      resolveServer({
        configuredPath: "/nope/enclave",
        extensionPath: EXT,
        platform: "linux",
        isExecutable: files(VENV),
      }),
    (err: Error) => err instanceof ServerNotFound && err.message.includes("/nope/enclave"),
  );
});

test("unset: the checkout's virtual environment, then PATH", () => {
  const checkout = resolveServer({
    configuredPath: "",
    configuredArgs: [],
    extensionPath: EXT,
    envPath: "/usr/local/bin",
    platform: "linux",
    isExecutable: files(VENV, "/usr/local/bin/enclave"),
  });
  assert.deepEqual(checkout, { command: VENV, args: ["serve"], source: "checkout" });
  const onPath = resolveServer({
    extensionPath: "/home/u/.vscode/extensions/enclave.enclave-0.1.0",
    envPath: "/usr/bin::/usr/local/bin",
    platform: "linux",
    isExecutable: files("/usr/local/bin/enclave"),
  });
  assert.deepEqual(onPath, { command: "/usr/local/bin/enclave", args: ["serve"], source: "path" });
});

test("nothing found: the message says what was tried and how to fix it", () => {
  assert.throws(
    () => resolveServer({ extensionPath: EXT, envPath: "/usr/bin", platform: "linux", isExecutable: () => false }),
    (err: Error) => err.message.includes(VENV) && err.message.includes("enclave.server.path"),
  );
});

test("Windows: Scripts\\enclave.exe in the checkout, .exe on PATH", () => {
  const win = resolveServer({
    extensionPath: "C:\\src\\enclave\\editor-clients\\vscode",
    envPath: "C:\\tools;C:\\py\\Scripts",
    platform: "win32",
    isExecutable: files("C:\\py\\Scripts\\enclave.exe"),
  });
  assert.equal(win.command, "C:\\py\\Scripts\\enclave.exe");
  const venv = resolveServer({
    extensionPath: "C:\\src\\enclave\\editor-clients\\vscode",
    platform: "win32",
    isExecutable: files("C:\\src\\enclave\\.venv\\Scripts\\enclave.exe"),
  });
  assert.equal(venv.source, "checkout");
});
