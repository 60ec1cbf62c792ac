# Two commands for a fresh machine: `make demo` (install, fetch the model, complete a sample
# file) and `make test` (install, fetch the models, lint, type-check, run every test).
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
DEMO_FILE := docs/demo/primes.py
DEMO_AT := $(DEMO_FILE):16:12

.PHONY: install models demo test unit server editor model lint clients editors vscode-e2e clean

# The distribution is enclave-lsp (its command is `enclave`); constraints.txt pins what CI runs.
# A venv made before the rename holds a distribution "enclave" of this checkout: it goes first.
$(BIN)/enclave: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@if $(BIN)/pip show enclave 2>/dev/null | grep -q "location: $(CURDIR)$$"; then \
		$(BIN)/pip uninstall --quiet -y enclave; fi
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(BIN)/enclave

models: install
	$(BIN)/enclave model fetch --size 0.5b
	$(BIN)/enclave model fetch --size 1.5b

demo: install
	$(BIN)/enclave model fetch --size 1.5b
	@echo "--- completing $(DEMO_AT) with the default model:"
	$(BIN)/enclave complete $(DEMO_AT)

LINTED := lsp_server tests $(wildcard bench)

lint: install
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

# The test tiers (tests/README.md). `model` also runs the editor tests that need the model.
unit: install
	$(BIN)/pytest tests/unit -q

server: install
	$(BIN)/pytest tests/server -q

editor: install editors
	$(BIN)/pytest -m editor -q

model: models
	$(BIN)/pytest -m model -q

# The VS Code extension: typecheck, unit tests, settings schema check, .vsix build.
clients: install
	PATH="$(abspath $(BIN)):$$PATH" $(MAKE) -C editor-clients/vscode ci

# Emacs with Eglot, lsp-mode and Company for tests/editors/test_emacs.py and
# test_emacs_lsp_mode.py, from the system packages (Debian 12: Emacs 28.2, Eglot 1.9, lsp-mode
# 8.0.0, Company 0.9.13), and the Unicode data files tests/unit/test_edits_invisible.py checks
# the generated tables against (unicode-data), when one is missing and apt-get can run (as
# root). Without them those tests skip, or fail if CI is set.
EMACS_HAS = emacs --batch -q --eval "(progn (package-activate-all) (require '$(1)))" >/dev/null 2>&1
# pyright's language server (1.1.414, from the npm registry, when npm is here) beside Enclave in
# lsp-mode: tests/editors/test_emacs_lsp_mode.py.
PYRIGHT := build/pyright/node_modules/.bin/pyright-langserver
$(PYRIGHT):
	@if command -v npm >/dev/null 2>&1; then \
		npm install --no-audit --no-fund --silent --prefix build/pyright pyright@1.1.414; fi
editors: $(PYRIGHT)
	@if ! { $(call EMACS_HAS,eglot) && $(call EMACS_HAS,lsp-mode) && $(call EMACS_HAS,company) \
		&& [ -f /usr/share/unicode/DerivedCoreProperties.txt ]; } \
		&& command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends emacs-nox elpa-eglot elpa-lsp-mode \
			elpa-company unicode-data; \
	fi

# The VS Code extension in a real editor: code-server 4.100.3 from the npm registry, chromium,
# ripgrep and libkrb5-dev from Debian (apt-get, as root, when missing), the .vsix from
# `clients`, the real server and the default model. Measured on 2 busy cores: the install
# 1.5 min (apt packages included), the test 5 to 7 min (four sessions); fails the build on any failure.
vscode-e2e: models clients
	PATH="$(abspath $(BIN)):$$PATH" ENCLAVE="$(abspath $(BIN))/enclave" \
		$(MAKE) -C editor-clients/vscode e2e

test: models lint clients editors vscode-e2e
	$(BIN)/pytest -ra

clean:
	rm -rf $(VENV) build *.egg-info
