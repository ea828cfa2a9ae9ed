# Two entry points: `make run` starts the embedded portal, `make test` runs
# every check. Both create .venv and install the project when needed.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint typecheck pytest bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	PORTAL_PYTHON=$(PY) scripts/run-embedded --check-port
	$(PY) manage.py migrate --noinput
	$(PY) manage.py portal_setup
	scripts/run-embedded

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy portal sophos

# The first pass runs on the embedded default (SQLite, ORM broker, database
# cache). A second pass runs on PostgreSQL and Redis when DATABASE_URL and
# REDIS_URL are both set (scripts/ci-services prints them); with CI=true
# their absence fails the target. Both passes run before it reports failure.
SCALED_VARS := DATABASE_URL DATABASE_URL_FILE REDIS_URL REDIS_URL_FILE PORTAL_EXPECT_SCALED

pytest: $(STAMP)
	@status=0; \
	echo "pytest: embedded pass (SQLite, ORM broker, database cache)"; \
	env $(foreach name,$(SCALED_VARS),-u $(name)) $(VENV)/bin/pytest || status=1; \
	if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
		echo "pytest: scaled pass (PostgreSQL, Redis broker, Redis cache)"; \
		PORTAL_EXPECT_SCALED=1 $(VENV)/bin/pytest || status=1; \
	elif [ "$$CI" = true ]; then \
		echo "pytest: scaled pass failed: DATABASE_URL and REDIS_URL must both be set with CI=true (run scripts/ci-services)." >&2; \
		status=1; \
	else \
		echo "pytest: scaled pass skipped: set DATABASE_URL and REDIS_URL to run it (scripts/ci-services prints both)."; \
	fi; \
	exit $$status

test: lint typecheck pytest

bench: $(STAMP)
	$(PY) scripts/bench.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
