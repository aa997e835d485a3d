# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install install-test emulators bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

demo: install
	$(BIN)/accords demo

# The cloud emulators the provider drivers are tested against, each in its own venv under .emu/
# (pinned; installed once). Tests skip without them, unless ACCORDS_REQUIRE_EMULATORS=1 (CI).
emulators:
	PYTHON=$(PYTHON) bash scripts/emulators.sh

test: install-test emulators
	$(BIN)/python -m pytest -n 2 -q

bench: install-test emulators
	$(BIN)/python -m bench
	$(BIN)/python -m bench.cords_bench
	$(BIN)/python -m bench.providers_bench
	$(BIN)/python -m bench.deploy_bench

clean:
	rm -rf $(VENV) .emu build *.egg-info
