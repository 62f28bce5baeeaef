"""Resumable batch jobs: a shard-level manifest, one numbered *run* per invocation, merged accounting.

Layout of an output folder after one or more runs::

    data/source_kind=<kind>/part-r<N>-*.parquet   # files of run N (Beam sink: temp files + atomic rename)
    rejects/part-r<N>-<stage>-*.parquet
    report/runs/r<N>/stages.json, stats/*.json    # accounting of run N alone
    report/stages.json, report/stats/             # merged over all runs (counts summed)
    dedup_state/part-r<N>-*.parquet               # fingerprints of the documents run N's dedup kept
    manifest/shards.jsonl                         # one line per completed input shard, appended at commit

``curate run --resume`` reads the manifest, skips every input shard recorded as complete (same path and
size) and runs the rest as run N+1 (or as waves N+1, N+2, ...; see :mod:`curation.waves`). A run writes
under ``_staging/r<N>/`` and is committed (files moved, manifest appended) only after its pipeline has
finished, so a crashed or killed run leaves no shard marked complete and no visible partial file.
Dedup is incremental across runs (:mod:`curation.incremental`): a document duplicating one kept by an
earlier run is dropped. Decontamination needs no state (its index is the evaluation sets).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apache_beam.io.filesystems import FileSystems

from curation.accounting import StageCounts, stages_report
from curation.rules import ConfigError
from curation.sinks import delete_tree, path_exists

MANIFEST = "manifest/shards.jsonl"
# Everything a run writes under its output folder (``--overwrite`` clears exactly these).
OUTPUT_DIRS = ("data", "rejects", "report", "manifest", "dedup_state", "_staging")


@dataclass(frozen=True)
class RunLayout:
    """Where run ``index`` writes its files."""

    output: str
    index: int

    @property
    def run_id(self) -> str:
        return f"r{self.index}"

    @property
    def part_prefix(self) -> str:
        return f"part-{self.run_id}"

    def path(self, *parts: str) -> str:
        return FileSystems.join(self.output, *parts)

    @property
    def run_report_dir(self) -> str:
        return self.path("report", "runs", self.run_id)


def shard_key(shard: Any) -> dict[str, Any]:
    """Identity of an input shard: source, kind, path, relative name and (for files) the size in bytes."""
    size = None
    try:
        match = FileSystems.match([shard.path])[0].metadata_list
        if len(match) == 1 and match[0].path.rstrip("/") == str(shard.path).rstrip("/"):
            size = match[0].size_in_bytes
    except Exception:
        size = None
    return {
        "source": shard.source,
        "kind": shard.kind,
        "path": str(shard.path),
        "rel": shard.rel,
        "size": size,
    }


def _key_tuple(d: dict[str, Any]) -> tuple:
    return (d["source"], d["kind"], d["path"], d.get("rel"), d.get("size"))


def read_manifest(output: str) -> list[dict[str, Any]]:
    path = FileSystems.join(output, MANIFEST)
    if not FileSystems.exists(path):
        return []
    with FileSystems.open(path) as fh:
        return [json.loads(line) for line in fh.read().decode("utf-8").splitlines() if line.strip()]


def output_in_use(output: str) -> bool:
    """True if ``output`` already holds a run (data, rejects or a manifest)."""
    return any(path_exists(FileSystems.join(output, sub)) for sub in OUTPUT_DIRS if sub != "report")


def clear_output(output: str) -> None:
    """Delete the folders a run writes (used by ``--overwrite``)."""
    for sub in OUTPUT_DIRS:
        delete_tree(FileSystems.join(output, sub))


def plan_resume(output: str, shards: Sequence[Any], resume: bool, overwrite: bool) -> tuple[RunLayout, list]:
    """Decide the run index and which shards still need reading.

    Without ``resume`` a used output folder is an error (unless ``overwrite``), so two different jobs never
    mix their files.
    """
    if overwrite:
        clear_output(output)
    elif not resume and output_in_use(output):
        raise ConfigError(
            "command line",
            "--output",
            f"{output} already holds a run; pass --resume to continue it or --overwrite",
        )
    done_entries = read_manifest(output) if resume else []
    done = {_key_tuple(e) for e in done_entries}
    runs = {e["run"] for e in done_entries}
    todo = [s for s in shards if _key_tuple(shard_key(s)) not in done]
    return RunLayout(output, len(runs)), todo


def write_manifest(output: str, entries: Iterable[dict[str, Any]]) -> None:
    """Rewrite the small manifest file atomically (temporary file, then rename)."""
    payload = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries).encode("utf-8")
    final = FileSystems.join(output, MANIFEST)
    tmp = final + ".tmp"
    with FileSystems.create(tmp) as fh:
        fh.write(payload)
    if FileSystems.exists(final):
        FileSystems.delete([final])
    FileSystems.rename([tmp], [final])


def merge_run_reports(output: str, stage_order: list[str], tokenizer: str) -> dict[str, Any]:
    """Sum the per-run ``stages.json`` files into ``report/stages.json`` and merge the runs' stats."""
    runs_dir = FileSystems.join(output, "report", "runs")
    found = FileSystems.match([FileSystems.join(runs_dir, "r*", "stages.json")])[0].metadata_list
    rows: dict[tuple[str, str, str], StageCounts] = {}
    run_dirs: list[tuple[int, str]] = []
    for meta in found:
        with FileSystems.open(meta.path) as fh:
            data = json.loads(fh.read().decode("utf-8"))
        for stage in data["stages"]:
            for row in stage["by_source_kind_lang"]:
                key = (stage["stage"], row["source_kind"], row["lang"])
                rows.setdefault(key, StageCounts()).merge(StageCounts.from_json(row))
        run_dir = meta.path.rsplit("/", 1)[0]  # .../report/runs/r<N>
        run_dirs.append((int(run_dir.rsplit("/", 1)[-1][1:]), run_dir))
    report = stages_report(list(rows.items()), stage_order, tokenizer)
    report["runs"] = len(found)
    with FileSystems.create(FileSystems.join(output, "report", "stages.json")) as fh:
        fh.write(json.dumps(report, indent=2, ensure_ascii=False).encode("utf-8"))
    _merge_stats([FileSystems.join(d, "stats") for _, d in sorted(run_dirs)], output)
    return report


def merge_stats_values(a: Any, b: Any) -> Any:
    """Merge two runs' stats (pure): integer counts add up, dicts merge key by key; any other value
    (ratios, shares, rates, lists) is taken from ``b``, the later run, since it cannot be re-derived
    from the merged counts without the stage's own statistics."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for key, value in b.items():
            out[key] = merge_stats_values(a[key], value) if key in a else value
        return out
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool) and not isinstance(b, bool):
        return a + b
    return b


def _merge_stats(src_dirs: list[str], output: str) -> None:
    """``report/stats/<name>.json`` = the merge of every run's file of that name, in run order."""
    merged: dict[str, Any] = {}
    for src in src_dirs:
        for meta in sorted(FileSystems.match([FileSystems.join(src, "*.json")])[0].metadata_list, key=_path):
            name = meta.path.rsplit("/", 1)[-1]
            with FileSystems.open(meta.path) as fh:
                value = json.loads(fh.read().decode("utf-8"))
            merged[name] = merge_stats_values(merged[name], value) if name in merged else value
    dst_dir = FileSystems.join(output, "report", "stats")
    delete_tree(dst_dir)
    if not merged:
        return
    FileSystems.mkdirs(dst_dir)
    for name, value in merged.items():
        with FileSystems.create(FileSystems.join(dst_dir, name)) as fh:
            fh.write(json.dumps(value, indent=2, ensure_ascii=False).encode("utf-8"))


def _path(meta: Any) -> str:
    return meta.path
