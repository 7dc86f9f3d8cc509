# Ledenportaal — every target creates .venv itself when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CATALOGS := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
BENCH ?=

.PHONY: demo test test-quick bench lint lock translations clean help

help:
	@echo "make demo    set up and run the portal with the CRM simulator, mail catcher and demo accounts"
	@echo "make test    set up and run the whole test suite (SQLite, PostgreSQL, browser) plus lint"
	@echo "make bench   run the benchmarks (BENCH=pattern for a subset)"
	@echo "make lint    ruff, mypy and the import contracts"
	@echo "make lock    refresh constraints.txt to the newest versions pyproject.toml allows"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -c constraints.txt
	touch $(STAMP)

# The newest versions pyproject.toml allows, resolved in a throw-away venv and written to constraints.txt.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e ".[dev]"
	{ sed -n '1,2p' constraints.txt; .venv-lock/bin/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .venv-lock

portal/translations/%/LC_MESSAGES/messages.mo: portal/translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@ >/dev/null

translations: $(COMPILED)

demo: $(STAMP) translations
	$(BIN)/python -m portal.demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy config portal crm_sync audit forms_engine cms_content
	$(BIN)/mypy tests/bench/*.py
	$(BIN)/lint-imports

test: $(STAMP) translations lint
	PORTAL_TEST_DATABASE_URL=$${PORTAL_TEST_DATABASE_URL:-$(PG_TEST_URL)} PORTAL_TEST_REQUIRE_ALL=1 \
		$(BIN)/pytest tests -q

test-quick: $(STAMP) translations
	$(BIN)/pytest tests -q -m "not postgres and not browser"

bench: $(STAMP) translations
	$(BIN)/python tests/bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
