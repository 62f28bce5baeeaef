# Two entry points (see README): `make sample` and `make test`. Both create .venv and install
# everything on first use; later calls reuse it.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
MODELS  := models/lid.176.ftz
OUT     ?= out/sample

.PHONY: sample test install lint bench clean sample-data

install: $(STAMP) $(MODELS)

# torch first: it is a local CPU build; any other spec would pull GBs of CUDA wheels.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(MODELS): $(STAMP) scripts/fetch_models.py
	$(BIN)/python scripts/fetch_models.py --dest models

sample: install
	$(BIN)/curate run --config rules/pipeline.yaml --output $(OUT)

test: install
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests

lint: install
	$(BIN)/ruff check curation pipelines tests benchmarks scripts

bench: install
	$(BIN)/python benchmarks/backbone.py --corpus ../shared/data/eval-dev/corpus

# Regenerate the bundled sample shards (deterministic: `git diff` stays empty).
sample-data: $(STAMP)
	$(BIN)/python scripts/make_sample_data.py

clean:
	rm -rf $(VENV) models out
