"""Stand-in for `enclave model fetch --size SIZE` in the code-server test.

The real fetch downloads the model's data packages with pip (hundreds of MB, from the package
index) before assembling them; the test does not. This replays, with pauses, the real
command's stderr as captured here (e2e/fetch-0.5b.stderr: pip's lines, then tqdm's bar
rewritten with carriage returns), so the extension parses real output; then it "writes" the
model as the real one does, into the cache the server reads ($XDG_CACHE_HOME/enclave/models),
as a symbolic link to the already provisioned file (with its verification stamp, so the
server's quick check passes). On SIGINT (the extension's cancel) it removes its partial file
and exits 130, as the real fetch does. Every run is recorded in $ENCLAVE_E2E_FETCH_LOG.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

NAMES = {
    "1.5b": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    "0.5b": "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
}


def record(event: str, **extra: object) -> None:
    with open(os.environ["ENCLAVE_E2E_FETCH_LOG"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"event": event, "argv": sys.argv, **extra}) + "\n")


def main() -> int:
    size = sys.argv[sys.argv.index("--size") + 1]
    name = NAMES[size]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "enclave" / "models"
    cache.mkdir(parents=True, exist_ok=True)
    partial = cache / (name + ".partial")
    record("start", cache=str(cache))
    replay = (Path(__file__).parent / "fetch-0.5b.stderr").read_bytes().decode("utf-8")
    try:
        for piece in re.split(r"(?<=[\r\n])", replay):
            if "%|" in piece:
                partial.touch()
            sys.stderr.write(piece)
            sys.stderr.flush()
            time.sleep(0.15 if "%|" in piece else 0.1)
        real = Path(os.environ["ENCLAVE_E2E_REAL_MODELS"])
        (cache / name).symlink_to(real / name)
        stamp = name + ".verified.json"
        shutil.copyfile(real / stamp, cache / stamp)
        partial.unlink(missing_ok=True)
    except KeyboardInterrupt:
        partial.unlink(missing_ok=True)
        record("interrupted")
        return 130
    print(f"model ready: {cache / name}")
    record("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
