# Two commands set everything up on a fresh machine:
#   make demo   installs pdca into .venv and runs the bundled example
#   make test   installs pdca with its test tools (and PostgreSQL/Chromium/Java when missing) and runs the tests
# Both install the versions pinned in constraints.txt. Maintenance:
#   make test-latest   the same checks in .venv-latest with the newest versions the ranges allow
#   make lock          refresh constraints.txt to those newest versions
#   make bench         every benchmark, summed up in bench/results.md (about 20 minutes)
VENV ?= .venv
LATEST_VENV ?= .venv-latest
PYTHON ?= python3
CONSTRAINTS ?= constraints.txt
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed-dev

.PHONY: demo test test-latest lock lint bench install clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[dev]'
	touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/pdca demo pdca-demo

# ruff, the main suite and the plugins' suites all run; the last line sums them up
test: $(STAMP)
	bash .ci/postgres-install.sh
	bash .ci/chromium-install.sh
	bash .ci/java-install.sh
	CONSTRAINTS=$(CONSTRAINTS) bash .ci/test.sh $(BIN)/python

# a new venv each time, so every dependency is the newest its range allows
test-latest:
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/python -m pip install --quiet -e '.[dev,postgres]'
	@echo "== installed versions that differ from $(CONSTRAINTS):"
	@$(LATEST_VENV)/bin/python -m pip freeze --exclude-editable | grep -vxFf $(CONSTRAINTS) || echo "none"
	bash .ci/postgres-install.sh
	bash .ci/chromium-install.sh
	bash .ci/java-install.sh
	CONSTRAINTS= bash .ci/test.sh $(LATEST_VENV)/bin/python

lock:
	bash .ci/lock.sh $(PYTHON) $(CONSTRAINTS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench plugins
	$(BIN)/ruff format --check src tests bench plugins

# every bench/bench_*.py at its default size, then the table of goals in bench/results.md
bench: $(STAMP)
	bash .ci/time-install.sh || echo "bench: no GNU time; peak memory is read by a launcher"
	nice $(BIN)/python bench/summary.py

clean:
	rm -rf $(VENV) $(LATEST_VENV) pdca-demo .pytest_cache
