# greenai — the README's two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM_VENV ?= .venv-sam
PY312 ?= $(firstword $(wildcard /root/.pyenv/versions/3.12*/bin) $(dir $(shell command -v python3.12 2>/dev/null)))

.PHONY: install demo test lint validate scan check build bench clean

$(STAMP): shared/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e "shared[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/greenai demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check shared functions tests bench layers
	$(BIN)/mypy --config-file shared/pyproject.toml shared/greenai
	$(BIN)/cfn-lint template.yaml

$(SAM_VENV)/.installed:
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet aws-sam-cli
	touch $@

export SAM_CLI_TELEMETRY := 0

validate: $(SAM_VENV)/.installed
	$(SAM_VENV)/bin/sam validate --lint

SCAN_VENV ?= .venv-scan
$(SCAN_VENV)/.installed:
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet checkov
	touch $@

# Infrastructure security scan; every skipped check is explained in template.yaml's Metadata.
scan: $(SCAN_VENV)/.installed
	$(SCAN_VENV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet --skip-download

# Everything CI runs after the tests.
check: lint validate scan

# sam build needs a python3.12 on PATH (the Lambda runtime); pyenv has one. Then every handler is imported from its
# built function and layers, with boto3 where the Lambda runtime has it, and the size budgets are checked.
build: $(SAM_VENV)/.installed
	PATH="$(PY312):$$PATH" $(SAM_VENV)/bin/sam build
	$(PY312)/python3.12 -m pip install --quiet --no-compile --target .aws-sam/lambda-runtime boto3
	$(PY312)/python3.12 layers/verify_build.py $(PY312)/python3.12 .aws-sam/lambda-runtime

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) .aws-sam artifacts

# Benchmarks (not tests): writes bench/results.json and bench/summary.md. BUILD=1 runs `sam build` first for sizes.
bench: $(STAMP)
	$(if $(BUILD),$(MAKE) build,)
	$(BIN)/python bench/run.py
