# Two entry points, each doing its own set-up on a fresh machine:
#   make demo   create .venv if needed, install the project, run `gate demo`
#   make test   the same set-up, then the linters, the type checker, the pipeline schemas and
#               shellcheck, the documentation site (mkdocs build --strict), the test suite
#               with branch coverage, the test suite (but the whole-command tests of
#               tests/e2e) again in .venv-lowest, where every runtime dependency is at the
#               lowest version pyproject.toml declares (on a plain install, run with python -P),
#               and the built wheel installed with pipx
# Also: make test-fast (the pure layers, seconds), make docs (serve the site), make bench.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOWEST := .venv-lowest
LOWEST_STAMP := $(LOWEST)/.installed
PIP := -m pip install --quiet --disable-pip-version-check

.PHONY: demo test test-fast lint docs docs-build install clean bench test-lowest test-wheel

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP) --upgrade pip
	$(BIN)/python $(PIP) -e '.[dev]'
	touch $(STAMP)

$(LOWEST_STAMP): pyproject.toml constraints/lowest.txt
	test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python $(PIP) --upgrade pip
	$(LOWEST)/bin/python $(PIP) -c constraints/lowest.txt '.[test]'
	touch $(LOWEST_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/gate demo || test $$? -eq 1  # the demo shows a failing release: exit 1 is its point

lint: $(STAMP)
	$(BIN)/ruff check gate tests tools bench
	$(BIN)/ruff format --check gate tests tools bench
	$(BIN)/mypy
	$(BIN)/check-jsonschema --builtin-schema vendor.cloudbuild cloudbuild.yaml pipelines/cloudbuild/*.yaml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions action.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows pipelines/github-actions/deploy.yml .github/workflows/*.yml
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/actionlint pipelines/github-actions/deploy.yml .github/workflows/*.yml
	$(BIN)/python tools/check_schemas.py schemas/clouddeploy.schema.json pipelines/clouddeploy/clouddeploy.yaml
	$(BIN)/python tools/check_schemas.py schemas/skaffold.schema.json pipelines/clouddeploy/skaffold.yaml
	$(BIN)/python tools/shellcheck_actions.py action.yml pipelines/github-actions/deploy.yml .github/workflows/*.yml \
		cloudbuild.yaml pipelines/cloudbuild/*.yaml

# A plain (not editable) install of this checkout, and `python -P`: the suite runs on what
# pip installed into site-packages, never on the checkout found through sys.path. Every layer's
# tests run there (the real Google clients against the emulator, websockets, click, the
# renderers, and the CLI through the contract and pipeline tests); the whole-command tests of
# tests/e2e (marked slow: minutes of bakes, holds and demos) run once, on the current versions,
# so that `make test` stays well within CI's 15 minutes on two cores.
test-lowest: $(LOWEST_STAMP)
	$(LOWEST)/bin/python $(PIP) --no-deps --force-reinstall .
	$(LOWEST)/bin/python -P -m pytest -p no:cacheprovider -q -m "not slow"

# The wheel and sdist as a user gets them, installed with pipx into a throwaway home.
test-wheel: $(STAMP)
	rm -rf dist build/pipx
	$(BIN)/python -m build --outdir dist . > build-log.txt 2>&1 || (cat build-log.txt; exit 1)
	rm -f build-log.txt
	PIPX_HOME=$(CURDIR)/build/pipx PIPX_BIN_DIR=$(CURDIR)/build/pipx/bin \
		PIPX_MAN_DIR=$(CURDIR)/build/pipx/man $(BIN)/pipx install --quiet --python $(PYTHON) dist/*.whl
	build/pipx/bin/gate --version
	build/pipx/bin/gate check --help > /dev/null

# The documentation site (mkdocs.yml, docs/), built strict: a broken link or a page missing
# from the navigation fails the build.
docs-build: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

# The pure layers alone, in seconds: what to run after a change to a judge or a renderer.
test-fast: $(STAMP)
	$(BIN)/pytest tests/checks tests/report tests/config tests/test_model.py tests/test_redact.py \
		tests/test_units.py tests/test_docs.py tests/test_status.py tests/test_wording.py -q -p no:cacheprovider

# The suite with branch coverage, printed; the pure layers (the judges, the renderers, the model
# and the redactor) must stay fully covered.
FULLY_COVERED := gate/checks/*,gate/report/*,gate/model.py,gate/redact.py

test: lint docs-build
	$(BIN)/pytest --cov=gate --cov-branch --cov-report=term:skip-covered
	$(BIN)/coverage report --include='$(FULLY_COVERED)' --fail-under=100 --show-missing --skip-covered
	$(MAKE) --no-print-directory test-lowest
	$(MAKE) --no-print-directory test-wheel

bench: $(STAMP)
	$(BIN)/python bench/bench.py --delay-ms 50 --repeat 10
	$(BIN)/python bench/canary.py --bake 2 --repeat 3
	$(BIN)/python bench/reads.py --targets 1,10,50
	$(BIN)/python bench/startup.py --repeat 20

clean:
	rm -rf $(VENV) $(LOWEST) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
