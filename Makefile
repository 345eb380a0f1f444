# `make run` and `make test` bootstrap everything they need on a fresh machine.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.ONESHELL:
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
PYTEST_ARGS ?=

.PHONY: help venv run system-deps test clean distclean

help:
	@echo "make run          run the service on its embedded default (SQLite file in ./data, no servers)"
	@echo "make test         install what the tests need, then run the whole suite"
	@echo "make venv         create .venv from requirements.lock and install the project into it"
	@echo "make system-deps  install the Debian packages the tests need (PostgreSQL, Redis, Chromium), if missing"
	@echo "make clean        remove caches and build output; make distclean also removes .venv"

venv: $(STAMP)

# Reinstalled whenever the pins or the project metadata change, or a top-level package
# appears: the editable install maps each top-level package when it is installed.
$(STAMP): requirements.lock pyproject.toml $(wildcard */__init__.py)
	if [ ! -x $(BIN)/python ]; then
	  $(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "ogp-lifecycle needs Python 3.11 or newer, $(PYTHON) is " + sys.version.split()[0] + "; run make PYTHON=python3.11")'
	  $(PYTHON) -m venv $(VENV)
	fi
	$(BIN)/python -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "$(VENV) has Python " + sys.version.split()[0] + ", 3.11 or newer is needed: make distclean, then make PYTHON=python3.11 venv")'
	$(PIP) install -r requirements.lock
	$(PIP) install --no-deps -e .
	touch $@

run: venv
	$(BIN)/ogp-lifecycle run

# PostgreSQL: the server binaries on PATH (initdb, pg_ctl, postgres) if there, else a
# Debian install under /usr/lib/postgresql/*/bin; the tests look in the same places.
system-deps:
	@have_postgres() {
	  if command -v initdb && command -v pg_ctl && command -v postgres; then return 0; fi >/dev/null
	  for bindir in /usr/lib/postgresql/*/bin; do
	    if [ -x "$$bindir/initdb" ] && [ -x "$$bindir/pg_ctl" ] && [ -x "$$bindir/postgres" ]; then return 0; fi
	  done
	  return 1
	}
	missing=()
	have_postgres || missing+=(postgresql)
	command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
	# Browser tests (tests/browser): Debian's headless Chromium and its driver.
	# fonts-liberation: a recommendation skipped by --no-install-recommends; pages need a font to render text.
	[ -x /usr/bin/chromium ] || command -v chromium >/dev/null || missing+=(chromium fonts-liberation)
	[ -x /usr/bin/chromedriver ] || command -v chromedriver >/dev/null || missing+=(chromium-driver)
	# As root the test server runs as a system user that the tests create with useradd.
	if [ "$$(id -u)" = 0 ] && ! command -v useradd >/dev/null && [ ! -x /usr/sbin/useradd ]; then missing+=(passwd); fi
	if [ $${#missing[@]} -eq 0 ]; then exit 0; fi
	if [ "$$(id -u)" != 0 ]; then
	  echo "Missing Debian packages: $${missing[*]}. Run 'sudo make system-deps' or install them yourself." >&2
	  exit 1
	fi
	echo "Installing Debian packages: $${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "$${missing[@]}" >/dev/null
	have_postgres || { echo "PostgreSQL is still missing after installing it" >&2; exit 1; }
	command -v redis-server >/dev/null || { echo "redis-server is still missing after installing it" >&2; exit 1; }
	{ [ -x /usr/bin/chromium ] || command -v chromium >/dev/null; } || { echo "chromium is still missing after installing it" >&2; exit 1; }
	{ [ -x /usr/bin/chromedriver ] || command -v chromedriver >/dev/null; } || { echo "chromedriver is still missing after installing it" >&2; exit 1; }

test: venv system-deps
	$(BIN)/pytest $(PYTEST_ARGS)

clean:
	rm -rf build .pytest_cache .hypothesis *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)

# Deadline-engine benchmark on a throwaway PostgreSQL: one JSON object on stdout (bench/README.md).
.PHONY: bench
bench: venv system-deps
	@$(BIN)/python -m bench.tick

# Web pages benchmark: 10,000 members on SQLite, uvicorn in a subprocess; one JSON object on stdout (bench/README.md).
.PHONY: bench-web
bench-web: venv
	@$(BIN)/python -m bench.web
