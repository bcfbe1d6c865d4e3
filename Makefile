# make run   set everything up (system packages, venv, database, data) and start web, worker and beat
# make test  the same set-up, then every test
# make bench the same set-up, then the benchmarks (bench/run.py) in their own database
SHELL := /bin/bash
-include .env
export

.PHONY: run test setup setup-test lint format bench superuser

run: setup
	@echo "Ceasefire Monitor at http://127.0.0.1:8000/  (admin: /admin/, create a user with 'make superuser')"
	.venv/bin/honcho start -f Procfile

setup:
	scripts/bootstrap.sh

setup-test:
	scripts/bootstrap.sh --test

test: setup-test
	.venv/bin/python manage.py makemigrations --check --dry-run
	.venv/bin/pytest $(PYTEST_ARGS)

# A million synthetic incidents in the database ceasefire_bench (generated on first use), then
# every figure; results in bench/RESULTS.md. BENCH_ARGS="--incidents 100000 --repeats 1" for less.
bench: setup
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
