# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := app.py
# make run is development: a secret generated once into instance/ and local host names (shop/config.py);
# anything else (gunicorn, make bench) is production and must be given SECRET_KEY and SITE_URL or TRUSTED_HOSTS.
run seed db: export SHOP_ENV ?= development
run: export FLASK_RUN_HOST := $(HOST)
run: export FLASK_RUN_PORT := $(PORT)

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

# The outbox worker runs beside the web server (mail lands in instance/mail/ unless SMTP_URL is set);
# Ctrl+C stops both.
run: seed
	@echo ""
	@echo "CellShop is starting on http://$(HOST):$(PORT)/  (Ctrl+C to stop), with its mail worker"
	@echo ""
	@$(BIN)/flask outbox work & worker=$$!; trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; $(BIN)/flask run

# Test processes: pytest-xdist's "auto" is one per core; 0 runs the suite in this one process. An idle
# worker takes queued tests from a busy one (worksteal), so a few long tests don't leave a core waiting.
PYTEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# The official run: one and two workers, latency at one connection, and the write scenario.
BENCH_ARGS ?= --workers 1,2 --concurrency 8,1 --writes
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)
