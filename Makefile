# make run   set everything up (system packages, venv, database, data) and start web, worker and beat
# make dev   the same with DEBUG on, for development on your own machine only
# make test  the same set-up, then every test
# make bench the same set-up, then the benchmarks (bench/run.py) in their own database
SHELL := /bin/bash
-include .env
export

.PHONY: run dev test setup setup-test lint format bench reliability superuser

run: setup
	@echo "Ceasefire Monitor at http://127.0.0.1:8000/  (admin: /admin/, create a user with 'make superuser')"
	DEBUG=0 .venv/bin/honcho start -f Procfile

# The same stack with DEBUG on: error pages with settings, SQL and variables. Your machine only.
dev: setup
	@echo "DEVELOPMENT MODE (DEBUG on: error pages show settings and data; never expose this port)"
	@echo "Ceasefire Monitor at http://127.0.0.1:8000/"
	DEBUG=1 .venv/bin/honcho start -f Procfile

setup:
	scripts/bootstrap.sh

setup-test:
	scripts/bootstrap.sh --test

test: setup-test
	.venv/bin/python manage.py makemigrations --check --dry-run
	.venv/bin/pytest $(PYTEST_ARGS)

# A million synthetic incidents in the database ceasefire_bench (generated on first use), then
# every figure; results in bench/RESULTS.md. BENCH_ARGS="--incidents 100000 --repeats 1" for less,
# BENCH_ARGS="--only geojson" for one figure. wrk (Debian's package) is the submission figure's
# load tool; without it the figure uses a Python thread pool.
bench: setup
	@command -v wrk >/dev/null || { \
	  echo "==> Installing wrk (load tool of bench/submit_bench.py)"; \
	  if [[ $$EUID -eq 0 ]]; then as_root=; else as_root=sudo; fi; \
	  $$as_root apt-get update -q && \
	  $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk; \
	} || echo "wrk could not be installed: the submission figure uses a Python thread pool"
	.venv/bin/python bench/run.py $(BENCH_ARGS)

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/bandit -r . -x ./.venv,./tests,./bench,./reliability -ll -q

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

superuser:
	.venv/bin/python manage.py createsuperuser

# Load, races, Redis / worker / PostgreSQL failures, bad input and access against the whole stack,
# in its own database (ceasefire_reliability); results in reliability/RESULTS.md. It restarts the
# PostgreSQL server of DATABASE_URL: RELIABILITY_ARGS="--quick" (or "--skip postgres_restart")
# leaves it alone.
reliability: setup
	.venv/bin/python -m reliability.run $(RELIABILITY_ARGS)
