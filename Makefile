# Two commands set everything up on a fresh machine:
#   make demo   installs pdca into .venv and runs the bundled example
#   make test   installs pdca with its test tools (and PostgreSQL/Chromium when missing) and runs the tests
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-dev

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/pdca demo pdca-demo

# ruff, the main suite and the plugins' suites all run; the last line sums them up
test: $(STAMP)
	bash .ci/postgres-install.sh
	bash .ci/chromium-install.sh
	bash .ci/test.sh $(BIN)/python

lint: $(STAMP)
	$(BIN)/ruff check src tests bench plugins
	$(BIN)/ruff format --check src tests bench plugins

bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) pdca-demo .pytest_cache
