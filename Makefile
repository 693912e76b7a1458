# Two entry points, each doing its own set-up on a fresh machine:
#   make demo   create .venv if needed, install the project, run `gate demo`
#   make test   the same set-up, then the linters, the type checker, the pipeline schemas and
#               shellcheck, and the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/gate demo || test $$? -eq 1  # the demo shows a failing release: exit 1 is its point

lint: $(STAMP)
	$(BIN)/ruff check src tests tools bench
	$(BIN)/ruff format --check src tests tools bench
	$(BIN)/mypy
	$(BIN)/check-jsonschema --builtin-schema vendor.cloudbuild cloudbuild.yaml pipelines/cloudbuild/*.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions pipelines/github-actions/action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows pipelines/github-actions/deploy.yml
	$(BIN)/python tools/shellcheck_actions.py pipelines/github-actions/action.yml pipelines/github-actions/deploy.yml

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/bench.py --delay-ms 50 --repeat 5

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
