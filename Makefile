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
# The second test environment (DEVELOPERS.md): pandas 3 on the newest Python here, with the
# extras that allow it; and its twin for the pandas 2/3 parity check: the same interpreter and
# the same versions of every other package, pandas 2.
# (the first that runs of python3.13, python3.12 on PATH or under pyenv, else python3)
PYTHON_NEW ?= $(shell for v in 3.13 3.12; do \
	  for c in python$$v $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$$v*/bin/python$$v 2>/dev/null \
	    | sort -V | tail -n 1); do \
	    $$c -c "" 2>/dev/null && command -v $$c && exit 0; \
	  done; done; command -v python3)
VENV_PANDAS3 := .venv-pandas3
PANDAS3_EXTRAS := dev,polars,lrs
VENV_PARITY := .venv-parity
# pytest-xdist workers; --dist loadfile keeps each file's module fixtures on one worker
PYTEST_WORKERS ?= auto
PYTEST := -m pytest tests src/talentml --doctest-modules -p no:cacheprovider \
	-n $(PYTEST_WORKERS) --dist loadfile

.PHONY: demo test test-default test-pandas3 lint format docs docs-serve bench clean venv \
	venv-pandas3 venv-parity ralph browser

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check "uv>=0.5"
	$(BIN)/uv pip install --quiet -p $(BIN)/python -e ".[$(EXTRAS)]"
	touch $@

venv-pandas3: $(VENV_PANDAS3)/.installed

$(VENV_PANDAS3)/.installed: pyproject.toml $(VENV)/.installed
	test -x $(VENV_PANDAS3)/bin/python || $(BIN)/uv venv --quiet -p $(PYTHON_NEW) $(VENV_PANDAS3)
	$(BIN)/uv pip install --quiet -p $(VENV_PANDAS3)/bin/python -e ".[$(PANDAS3_EXTRAS)]" "pandas>=3"
	touch $@

venv-parity: $(VENV_PARITY)/.installed

$(VENV_PARITY)/.installed: $(VENV_PANDAS3)/.installed
	test -x $(VENV_PARITY)/bin/python || \
	  $(BIN)/uv venv --quiet -p $$(readlink -f $(VENV_PANDAS3)/bin/python) $(VENV_PARITY)
	$(BIN)/uv pip freeze --quiet -p $(VENV_PANDAS3)/bin/python --exclude-editable \
	  | grep -v '^pandas==' > $(VENV_PARITY)/constraints.txt
	$(BIN)/uv pip install --quiet -p $(VENV_PARITY)/bin/python -e . "pandas>=2.2,<3" \
	  -c $(VENV_PARITY)/constraints.txt
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

test: venv venv-pandas3 venv-parity ralph browser
	$(BIN)/ruff check src tests tools benchmarks experiments docs/*.py docs/scripts
	$(BIN)/ruff format --check src tests tools benchmarks experiments docs/*.py docs/scripts
	$(BIN)/python tools/architecture.py
	TALENTML_TEST_PROFILE=full $(BIN)/python $(PYTEST)
	TALENTML_TEST_PROFILE=pandas3 $(VENV_PANDAS3)/bin/python $(PYTEST)
	$(BIN)/mkdocs build --strict --site-dir .site

# One environment at a time (what make test runs, without lint and docs).
test-default: venv venv-pandas3 venv-parity ralph browser
	TALENTML_TEST_PROFILE=full $(BIN)/python $(PYTEST)

test-pandas3: venv-pandas3 browser
	TALENTML_TEST_PROFILE=pandas3 $(VENV_PANDAS3)/bin/python $(PYTEST)

lint: venv
	$(BIN)/ruff check src tests tools benchmarks experiments docs/*.py docs/scripts
	$(BIN)/ruff format --check src tests tools benchmarks experiments docs/*.py docs/scripts
	$(BIN)/python tools/architecture.py

format: venv
	$(BIN)/ruff format src tests tools benchmarks experiments docs/*.py docs/scripts
	$(BIN)/ruff check --fix src tests tools benchmarks experiments docs/*.py docs/scripts

docs: venv
	$(BIN)/mkdocs build --strict --site-dir .site

docs-serve: venv
	$(BIN)/mkdocs serve -a 127.0.0.1:8000

bench: venv
	$(BIN)/python benchmarks/simulate.py

clean:
	rm -rf $(VENV) $(RALPH_VENV) $(VENV_PANDAS3) $(VENV_PARITY) .site $(DEMO_OUT) .pytest_cache
