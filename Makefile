# The two commands: `make run` (app with demo data) and `make test` (every test).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
export REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/ivigtrack
BENCH_N ?= 100000

.PHONY: run test setup services-check lint bench bench-quick clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

# Starts web, Celery worker and beat on http://127.0.0.1:8000 with the demo clinic (scripts/run.py).
# SQLite by default; set DATABASE_URL for PostgreSQL. Redis from REDIS_URL; when no Redis answers
# there it says so and starts the web process alone, running tasks in-process.
run: setup
	$(PY) scripts/run.py

# Every test on PostgreSQL (TEST_DATABASE_URL, PYTEST_ARGS), then the SQLite leg: the tests marked
# `sqlite` again on SQLite, the database `make run` uses by default (ivigtrack/settings_sqlite_test.py:
# in-memory database, tasks in-process, no PostgreSQL or Redis; about 20 s). Together they run
# every non-PostgreSQL branch (the ORM readers and bulk_create where PostgreSQL has one statement
# or COPY): migrate, seed_demo, the sweep on a chunk and on one patient, the API, the pages.
# Tests marked `postgresql` (threads writing at once, lz4) are skipped there.
test: setup
	@DATABASE_URL=$(TEST_DATABASE_URL) $(PY) scripts/check_services.py --postgres --redis
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) manage.py makemigrations --check --dry-run --settings=ivigtrack.settings_test
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports --no-cache
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) -m pytest $(PYTEST_ARGS)
	$(PY) -m pytest -q -m sqlite --ds=ivigtrack.settings_sqlite_test

lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: setup
	$(PY) bench/run.py --patients $(BENCH_N)

bench-quick: setup
	$(PY) bench/run.py --patients 10000 --quick

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles
