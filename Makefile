# Two commands set everything up on a fresh machine with Python 3.11+:
#   make run    # virtualenv, install, embedded PostgreSQL, 61 demo days, then the Dagster UI (:3000),
#               # its daemon, the HTTP API (:8000) and the dashboard (:8501); Ctrl-C stops all four
#   make test   # the same set-up, then the test suite against a real PostgreSQL
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 3000

.PHONY: install run serve worker test test-fast lint format bench db-stop clean notebook

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
	  || { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/kedah-analytics dev --port $(PORT)

# The deployment topology: code-location gRPC server, webserver and daemon as three processes.
serve: install
	$(BIN)/kedah-analytics serve --port $(PORT)

# One dagster-celery worker (KEDAH_CELERY_BROKER, KEDAH_CELERY_QUEUE) for KEDAH_EXECUTOR=celery runs.
worker: install
	$(BIN)/kedah-analytics worker

# Three workers on two cores: a third of the suite waits on daemons, webservers and subprocesses
# rather than the CPU, and a third worker fills those waits (7 min 13 s against 7 min 42 s and
# more with two, same machine). Each worker gets its own database; tests that start processes
# pick free ports. Files are handed out longest first (LONGEST_FIRST in tests/conftest.py; xdist
# would otherwise reorder them by their number of tests and leave the long one-test files to run
# alone at the end).
PYTEST_PARALLEL := -n 3 --dist loadfile --no-loadscope-reorder

# The project's bytecode, compiled once before a test run: the suite starts about a hundred Python
# processes (code servers, daemons, run workers, Celery workers), and where PYTHONDONTWRITEBYTECODE
# is set (as on this project's CI machines) each would compile the modules it imports again
# (about 0.15 s of CPU each for the code location alone). Python reads the files whatever that
# variable says, and recompiles in memory any module edited since.
BYTECODE := $(BIN)/python -m compileall -q kedah_analytics assets resources sensors tests > /dev/null

test: install
	$(BYTECODE)
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL)

# The inner loop: unit and single-process tests, without those marked slow (tests/conftest.py).
# Two workers, not three: nothing here waits on a process, so a third worker only adds its own
# imports (88 s against 95 s on a fresh clone, same machine).
test-fast: install
	$(BYTECODE)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m "not slow"

# JupyterLab in .venv, and a kernel "Kedah Analytics (.venv)" registered for the user, so that any
# Jupyter (this one, or one installed elsewhere) runs the notebooks with the project importable.
notebook: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,notebooks]'
	$(BIN)/python -m ipykernel install --user --name kedah-analytics --display-name "Kedah Analytics (.venv)"
	@echo "Open the notebooks with:  $(BIN)/jupyter lab notebooks/"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python bench/bench_load.py
	$(BIN)/python bench/bench_backfill.py

db-stop: install
	$(BIN)/kedah-analytics db stop

clean:
	-$(BIN)/kedah-analytics db stop
	rm -rf $(VENV) .pgdata .dagster *.egg-info
