"""The main curation pipeline as a module, for cluster submission.

    python -m pipelines.curate --config rules/pipeline.yaml --output gs://bucket/run1 \
        --runner=DataflowRunner --project=P --region=R --temp_location=gs://bucket/tmp \
        --setup_file=./setup.py

Identical to ``curate run``: the same options, the same pipeline graph.
"""

from __future__ import annotations

import sys

from curation.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["run", *sys.argv[1:]]))
