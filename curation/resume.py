"""Resumable batch jobs: a shard-level manifest, one numbered *run* per invocation, merged accounting.

Layout of an output folder after one or more runs::

    data/source_kind=<kind>/part-r<N>-*.parquet   # files of run N (Beam sink: temp files + atomic rename)
    rejects/part-r<N>-<stage>-*.parquet
    report/runs/r<N>/stages.json, stats/*.json    # accounting of run N alone
    report/stages.json, report/stats/             # merged over all runs (stats: the latest run's)
    manifest/shards.jsonl                         # one line per completed input shard, appended at success

``curate run --resume`` reads the manifest, skips every input shard recorded as complete (same path and
size) and runs the rest as run N+1. The manifest is appended only after the pipeline has finished and its
files are finalized, so a crashed run leaves no shard marked complete and no visible partial Parquet file
(Beam writes to a temporary folder and renames at finalize). Limits: dedup and decontamination see only
the shards of the current run; rerun without ``--resume`` for global dedup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from apache_beam.io.filesystems import FileSystems

from curation.accounting import StageCounts, stages_report
from curation.rules import ConfigError

MANIFEST = "manifest/shards.jsonl"


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
    return any(FileSystems.exists(FileSystems.join(output, sub)) for sub in ("data", "rejects", "manifest"))


def clear_output(output: str) -> None:
    """Delete the folders a run writes (used by ``--overwrite``)."""
    for sub in ("data", "rejects", "report", "manifest"):
        path = FileSystems.join(output, sub)
        if FileSystems.exists(path):
            FileSystems.delete([path])


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


def record_shards(layout: RunLayout, shards: Iterable[Any]) -> None:
    """Append the shards of a finished run to the manifest (rewrites the small manifest file atomically)."""
    entries = read_manifest(layout.output)
    entries += [{**shard_key(s), "run": layout.run_id} for s in shards]
    payload = "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries).encode("utf-8")
    final = layout.path(MANIFEST)
    tmp = final + ".tmp"
    with FileSystems.create(tmp) as fh:
        fh.write(payload)
    if FileSystems.exists(final):
        FileSystems.delete([final])
    FileSystems.rename([tmp], [final])


def merge_run_reports(output: str, stage_order: list[str], tokenizer: str) -> dict[str, Any]:
    """Sum the per-run ``stages.json`` files into ``report/stages.json``; copy the latest run's stats."""
    runs_dir = FileSystems.join(output, "report", "runs")
    found = FileSystems.match([FileSystems.join(runs_dir, "r*", "stages.json")])[0].metadata_list
    rows: dict[tuple[str, str, str], StageCounts] = {}
    latest: tuple[int, str] | None = None
    for meta in found:
        with FileSystems.open(meta.path) as fh:
            data = json.loads(fh.read().decode("utf-8"))
        for stage in data["stages"]:
            for row in stage["by_source_kind_lang"]:
                key = (stage["stage"], row["source_kind"], row["lang"])
                rows.setdefault(key, StageCounts()).merge(StageCounts.from_json(row))
        run_dir = meta.path.rsplit("/", 1)[0]  # .../report/runs/r<N>
        idx = int(run_dir.rsplit("/", 1)[-1][1:])
        if latest is None or idx > latest[0]:
            latest = (idx, run_dir)
    report = stages_report(list(rows.items()), stage_order, tokenizer)
    report["runs"] = len(found)
    with FileSystems.create(FileSystems.join(output, "report", "stages.json")) as fh:
        fh.write(json.dumps(report, indent=2, ensure_ascii=False).encode("utf-8"))
    if latest is not None:
        _copy_stats(FileSystems.join(latest[1], "stats"), FileSystems.join(output, "report", "stats"))
    return report


def _copy_stats(src_dir: str, dst_dir: str) -> None:
    found = FileSystems.match([FileSystems.join(src_dir, "*.json")])[0].metadata_list
    if not found:
        return
    if FileSystems.exists(dst_dir):
        FileSystems.delete([dst_dir])
    srcs = [m.path for m in found]
    dsts = [FileSystems.join(dst_dir, m.path.rsplit("/", 1)[-1]) for m in found]
    FileSystems.mkdirs(dst_dir)
    FileSystems.copy(srcs, dsts)
