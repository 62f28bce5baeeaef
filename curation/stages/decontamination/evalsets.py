"""Reading evaluation sets (JSONL, optionally gzip/zstd-compressed, or Parquet) into :class:`EvalItem`.

Each item keeps the text of the configured fields separately (n-grams never span two fields: a
document quoting a question need not contain its answer next to it). A field may hold a string, a
number, or a list of them (e.g. answer aliases or multiple-choice options; each element is its own
text). The item id is the ``id_field`` value, else the 0-based record number in the file, so ids are
stable whoever reads the file. Unreadable JSONL lines are skipped with a warning, never a crash.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from curation.stages.decontamination.rules import EvalSetSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvalItem:
    eval_set: str
    item_id: str
    texts: tuple[str, ...]


def _open_text(path: str) -> IO[str]:
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    if path.endswith(".zst"):
        import zstandard

        raw = zstandard.ZstdDecompressor().stream_reader(open(path, "rb"))
        return io.TextIOWrapper(raw, encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def _field_texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, list | tuple):
        out: list[str] = []
        for v in value:
            out.extend(_field_texts(v))
        return out
    if isinstance(value, Mapping):  # e.g. SQuAD answers {"text": [...], "answer_start": [...]}
        return _field_texts(value.get("text"))
    return []


def record_to_item(spec: EvalSetSpec, record: Mapping[str, Any], number: int, id_field: str) -> EvalItem:
    """Turn one record into an item (fields that are missing contribute nothing)."""
    raw_id = record.get(id_field)
    item_id = str(raw_id) if raw_id is not None and raw_id != "" else str(number)
    texts: list[str] = []
    for f in spec.fields:
        texts.extend(t for t in _field_texts(record.get(f)) if t.strip())
    return EvalItem(spec.name, item_id, tuple(texts))


def read_items(spec: EvalSetSpec, id_field: str = "id") -> Iterator[EvalItem]:
    """Stream the items of one evaluation set (record order, so item numbers are stable)."""
    if spec.resolved_format == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(spec.path)
        cols = [c for c in (*spec.fields, id_field) if c in pf.schema_arrow.names]
        number = 0
        for batch in pf.iter_batches(columns=cols or None, batch_size=4096):
            for rec in batch.to_pylist():
                yield record_to_item(spec, rec, number, id_field)
                number += 1
        return
    with _open_text(spec.path) as fh:
        number = 0
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                log.warning(
                    "eval set %s: %s line %d is not JSON (%s); skipped", spec.name, spec.path, lineno, exc
                )
                continue
            if not isinstance(rec, Mapping):
                log.warning("eval set %s: %s line %d is not an object; skipped", spec.name, spec.path, lineno)
                continue
            yield record_to_item(spec, rec, number, id_field)
            number += 1


def count_items(spec: EvalSetSpec) -> int:
    """Cheap item count used to pick the side-input or join path (non-blank lines / Parquet rows)."""
    if spec.resolved_format == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(spec.path).metadata.num_rows)
    if spec.path.endswith((".gz", ".zst")):
        with _open_text(spec.path) as fh:
            return sum(1 for line in fh if line.strip())
    n = 0
    with Path(spec.path).open("rb") as fb:
        for line in fb:
            if line.strip():
                n += 1
    return n
