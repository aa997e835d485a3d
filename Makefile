# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test install install-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

demo: install
	$(BIN)/accords demo

test: install-test
	$(BIN)/python -m pytest -n 2 -q

bench: install-test
	$(BIN)/python -m bench
	$(BIN)/python -m bench.cords_bench

clean:
	rm -rf $(VENV) build *.egg-info
