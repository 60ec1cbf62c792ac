#!/usr/bin/env node
// Writes the extension's settings (package.json contributes.configuration.properties) from the
// server's own schema, so the two never drift, plus the client-only enclave.server.* settings.
// User-only settings (the schema's x-userOnly, and the server command) get scope "application"
// and are listed in capabilities.untrustedWorkspaces.restrictedConfigurations;
// enclave.completion.enabled gets "language-overridable".
//
//   node scripts/sync-settings.mjs                 # run `enclave settings-schema`, update package.json
//   node scripts/sync-settings.mjs --schema FILE   # read the schema from FILE instead
//   node scripts/sync-settings.mjs --check         # exit 1 when package.json is out of date
//
// The schema comes from, in order: --schema FILE; $ENCLAVE (an enclave executable); the
// checkout's .venv/bin/enclave; `python3` importing lsp_server.settings from the checkout
// (stdlib only, so CI needs no virtual environment); `enclave` on PATH.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
export const EXTENSION_DIR = resolve(HERE, "..");
const CHECKOUT = resolve(EXTENSION_DIR, "..", "..");

/**
 * The scope of settings a repository must not choose (where code goes, which model file is
 * parsed, where files are written, what runs). "application": only the user's own settings set
 * it (the default profile's user settings; in code-server its User/settings.json), never a
 * workspace or folder, and never remote-machine settings, which a repository's dev container
 * definition can write. ("machine" would take remote settings; "machine-overridable" workspace.)
 */
export const USER_ONLY_SCOPE = "application";

const USER_ONLY_NOTE = "User settings only: a workspace cannot set it.";

/**
 * Server settings the extension also reads per language (a "[python]" entry in settings.json).
 * The server's value stays the global one; the extension applies the language's itself.
 */
export const LANGUAGE_OVERRIDABLE = {
  "enclave.completion.enabled":
    'Set it per language ("[python]": {"enclave.completion.enabled": false}) to have no ' +
    "completions in that language; a language cannot turn them on while they are off.",
};

/** Settings only the extension reads (never sent to the server). */
export const CLIENT_SETTINGS = {
  "enclave.server.path": {
    type: "string",
    default: "",
    scope: USER_ONLY_SCOPE,
    description:
      "The Enclave server executable. Empty: the checkout's .venv/bin/enclave when the " +
      "extension runs from an Enclave checkout, else `enclave` on PATH. " +
      USER_ONLY_NOTE,
  },
  "enclave.server.args": {
    type: "array",
    items: { type: "string" },
    default: ["serve"],
    scope: USER_ONLY_SCOPE,
    description: `Arguments for the server executable (the client adds --stdio). ${USER_ONLY_NOTE}`,
  },
  "enclave.trace.server": {
    type: "string",
    enum: ["off", "messages", "verbose"],
    default: "off",
    description: "Log the LSP messages between VS Code and the server to the Enclave output.",
  },
};

const ALLOWED = ["type", "default", "enum", "minimum", "maximum", "description", "items"];

/** The server's JSON schema to VS Code configuration properties (server's then client's). */
export function configurationProperties(schema) {
  if (!schema || typeof schema.properties !== "object") {
    throw new Error("the settings schema has no properties");
  }
  const props = {};
  let order = 0;
  for (const [key, value] of Object.entries(schema.properties)) {
    if (!key.startsWith("enclave.")) throw new Error(`setting ${key} lacks the enclave. prefix`);
    if (key in CLIENT_SETTINGS) throw new Error(`server setting ${key} clashes with the client's`);
    const prop = {};
    for (const field of ALLOWED) if (field in value) prop[field] = value[field];
    if (value["x-userOnly"] === true) {
      prop.scope = USER_ONLY_SCOPE;
      prop.description = `${prop.description ?? ""} ${USER_ONLY_NOTE}`.trim();
    }
    if (key in LANGUAGE_OVERRIDABLE) {
      if (prop.scope) throw new Error(`${key} cannot be both user-only and per language`);
      prop.scope = "language-overridable";
      prop.description = `${prop.description ?? ""} ${LANGUAGE_OVERRIDABLE[key]}`.trim();
    }
    prop.order = order++;
    props[key] = prop;
  }
  for (const [key, value] of Object.entries(CLIENT_SETTINGS)) {
    props[key] = { ...value, order: order++ };
  }
  return props;
}

/** package.json's text with the properties replaced (2-space JSON, trailing newline). */
export function updatedManifest(manifestText, schema) {
  const manifest = JSON.parse(manifestText);
  manifest.contributes ??= {};
  manifest.contributes.configuration ??= { title: "Enclave" };
  const props = configurationProperties(schema);
  manifest.contributes.configuration.properties = props;
  manifest.capabilities ??= {};
  manifest.capabilities.untrustedWorkspaces = {
    supported: "limited",
    description:
      "Settings that choose where code goes, which model file is read, where files are " +
      "written or what runs come only from user settings, never from a workspace.",
    restrictedConfigurations: Object.keys(props).filter((k) => props[k].scope === USER_ONLY_SCOPE),
  };
  return JSON.stringify(manifest, null, 2) + "\n";
}

function run(command, args, env) {
  return execFileSync(command, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
}

/** The schema from the first source that works; [schema, where it came from]. */
export function loadSchema(schemaFile) {
  if (schemaFile) return [JSON.parse(readFileSync(schemaFile, "utf8")), schemaFile];
  const attempts = [];
  const candidates = [];
  if (process.env.ENCLAVE) candidates.push([process.env.ENCLAVE, ["settings-schema"]]);
  const venv = join(CHECKOUT, ".venv", "bin", "enclave");
  if (existsSync(venv)) candidates.push([venv, ["settings-schema"]]);
  if (existsSync(join(CHECKOUT, "lsp_server", "settings.py"))) {
    const code =
      "import json; from lsp_server.settings import json_schema; print(json.dumps(json_schema()))";
    candidates.push(["python3", ["-c", code], { PYTHONPATH: CHECKOUT }]);
  }
  candidates.push(["enclave", ["settings-schema"]]);
  for (const [command, args, env] of candidates) {
    try {
      return [JSON.parse(run(command, args, env)), [command, ...args].join(" ")];
    } catch (err) {
      attempts.push(`${command}: ${String(err.message).split("\n")[0]}`);
    }
  }
  throw new Error("could not get the settings schema:\n  " + attempts.join("\n  "));
}

export function main(argv) {
  const check = argv.includes("--check");
  const i = argv.indexOf("--schema");
  const schemaFile = i >= 0 ? argv[i + 1] : undefined;
  if (i >= 0 && !schemaFile) throw new Error("--schema needs a file");
  const manifestPath = join(EXTENSION_DIR, "package.json");
  const current = readFileSync(manifestPath, "utf8");
  const [schema, source] = loadSchema(schemaFile);
  const wanted = updatedManifest(current, schema);
  if (check) {
    if (wanted !== current) {
      console.error(
        "package.json's settings differ from the server's schema (" + source + ").\n" +
          "Run: node scripts/sync-settings.mjs (or make -C editor-clients/vscode sync-settings)",
      );
      return 1;
    }
    console.log(`package.json settings match the server's schema (${source})`);
    return 0;
  }
  if (wanted !== current) writeFileSync(manifestPath, wanted);
  console.log(
    `${wanted !== current ? "updated" : "unchanged"}: package.json settings from ${source}`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`sync-settings: ${err.message}`);
    process.exitCode = 2;
  }
}
