# The two commands of the README:
#   make run    installs what is needed and starts Quotagate (tray + gateway; headless without a display)
#   make test   installs what is needed and runs the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test serve bench bundle system-deps system-deps-test clean

run: system-deps $(VENV)/.installed
	$(BIN)/quotagate

serve: $(VENV)/.installed
	$(BIN)/quotagate serve

test: system-deps-test $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python -m tests.bench

bundle: system-deps-test $(VENV)/.installed-test
	packaging/build.sh

system-deps:
	scripts/install-system-deps.sh

system-deps-test:
	scripts/install-system-deps.sh --test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e '.[test,packaging]'
	touch $@ $(VENV)/.installed

clean:
	rm -rf $(VENV) build dist *.egg-info
