# talentml: `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
export NO_MKDOCS_2_WARNING := 1
export TALENTML_SHOW_PROGRESS ?= 0
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RALPH_VENV := .venv-ralph
EXTRAS := dev,docs,spark,polars,lrs,bench
DEMO_OUT ?= demo-output

.PHONY: demo test lint format docs docs-serve bench clean venv ralph browser

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv>=0.5"
	$(BIN)/uv pip install --quiet -p $(BIN)/python -e ".[$(EXTRAS)]"
	touch $@

# The LRS used by the tests (ralph) lives in its own environment: its pinned
# dependencies never meet ours.
ralph: $(RALPH_VENV)/.installed

$(RALPH_VENV)/.installed: $(VENV)/.installed
	test -x $(RALPH_VENV)/bin/python || $(BIN)/uv venv --quiet -p $(PYTHON) $(RALPH_VENV)
	$(BIN)/uv pip install --quiet -p $(RALPH_VENV)/bin/python "ralph-malph[cli,lrs]>=5.1,<6" "requests>=2.31"
	touch $@

# Headless Chromium for tests/test_report.py (Debian packages; apt-get, as root or with sudo).
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends chromium chromium-driver; \
	fi

demo: venv
	$(BIN)/talentml demo --out $(DEMO_OUT)

test: venv ralph browser
	$(BIN)/ruff check src tests benchmarks experiments docs/*.py docs/scripts
	$(BIN)/ruff format --check src tests benchmarks experiments docs/*.py docs/scripts
	$(BIN)/python -m pytest tests src/talentml --doctest-modules -p no:cacheprovider
	$(BIN)/mkdocs build --strict --site-dir .site

lint: venv
	$(BIN)/ruff check src tests benchmarks experiments docs/*.py docs/scripts
	$(BIN)/ruff format --check src tests benchmarks experiments docs/*.py docs/scripts

format: venv
	$(BIN)/ruff format src tests benchmarks experiments docs/*.py docs/scripts
	$(BIN)/ruff check --fix src tests benchmarks experiments docs/*.py docs/scripts

docs: venv
	$(BIN)/mkdocs build --strict --site-dir .site

docs-serve: venv
	$(BIN)/mkdocs serve -a 127.0.0.1:8000

bench: venv
	$(BIN)/python benchmarks/simulate.py

clean:
	rm -rf $(VENV) $(RALPH_VENV) .site $(DEMO_OUT) .pytest_cache
