# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app.py

.PHONY: run test lint format install db seed clean bench

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

db: $(STAMP)
	@mkdir -p instance
	$(BIN)/flask db upgrade

seed: db
	$(BIN)/flask seed
	$(BIN)/flask users demo

run: seed
	@echo ""
	@echo "CellShop is starting on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	@echo ""
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
