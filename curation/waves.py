"""Waves: a long job cut into groups of input shards, each run as its own Beam pipeline and committed whole.

``curate run --wave-size N`` (shards) or ``--wave-mb M`` (input megabytes) packs the planned shards, in
plan order, into waves. Wave ``r<N>`` writes everything under ``<out>/_staging/r<N>/`` (Beam's own sinks
already write temporary files and rename them at finalize); when its pipeline has finished, the wave is
*committed*:

1. ``_staging/r<N>/COMMIT.json`` is written (the wave's files and shards: the journal);
2. every file is renamed to the same relative path under ``<out>`` (``data/``, ``rejects/``,
   ``report/runs/r<N>/``, ``dedup_state/``);
3. the wave's shards are appended to ``manifest/shards.jsonl`` (atomic rewrite);
4. the staging folder is deleted.

A run killed at any moment leaves either no journal (the staging folder is discarded on the next start)
or a journal (the commit is rolled forward on the next start). So a visible file is always complete, a
shard is in the manifest only when all of its outputs are visible, and ``--resume`` redoes exactly the
waves that were not committed. Memory is bounded by the wave, not by the input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from apache_beam.io.filesystems import FileSystems

from curation.resume import MANIFEST, RunLayout, read_manifest, shard_key, write_manifest
from curation.rules import ConfigError
from curation.sinks import delete_tree, path_exists

STAGING = "_staging"
JOURNAL = "COMMIT.json"
# What a wave writes, relative to its staging folder; each is moved to the same place under the output.
WAVE_DIRS = ("data", "rejects", "report/runs", "dedup_state")


@dataclass(frozen=True)
class Wave:
    """One wave: its run index and its shards (in plan order)."""

    index: int
    shards: tuple[Any, ...]
    sizes: tuple[int, ...]  # bytes of each shard (0: unknown), for spreading them over workers

    @property
    def size_bytes(self) -> int:
        return sum(self.sizes)

    @property
    def run_id(self) -> str:
        return f"r{self.index}"


def shard_size(shard: Any) -> int:
    """Size in bytes of one input shard (0 when the filesystem cannot tell, e.g. a code tree folder)."""
    size = shard_key(shard).get("size")
    return int(size) if size else 0


def plan_waves(
    shards: Sequence[Any],
    first_index: int,
    wave_size: int | None = None,
    wave_mb: float | None = None,
    sizes: Sequence[int] | None = None,
) -> list[Wave]:
    """Pack ``shards`` in order into waves of at most ``wave_size`` shards and ``wave_mb`` MB (pure).

    A shard larger than ``wave_mb`` is a wave of its own. Without either limit all shards are one wave.
    Packing is greedy from the first shard, so after ``--resume`` the remaining shards pack into the same
    waves as they would have in the uninterrupted run.
    """
    if wave_size is not None and wave_size < 1:
        raise ConfigError("command line", "--wave-size", f"must be an integer >= 1, got {wave_size}")
    if wave_mb is not None and not wave_mb > 0:
        raise ConfigError("command line", "--wave-mb", f"must be a number > 0, got {wave_mb}")
    if not shards:
        return []
    sizes = list(sizes) if sizes is not None else [shard_size(s) for s in shards]
    limit = None if wave_mb is None else wave_mb * 1e6
    waves: list[Wave] = []
    cur: list[Any] = []
    cur_sizes: list[int] = []
    cur_bytes = 0
    for shard, size in zip(shards, sizes, strict=True):
        full = cur and (
            (wave_size is not None and len(cur) >= wave_size)
            or (limit is not None and cur_bytes + size > limit)
        )
        if full:
            waves.append(Wave(first_index + len(waves), tuple(cur), tuple(cur_sizes)))
            cur, cur_sizes, cur_bytes = [], [], 0
        cur.append(shard)
        cur_sizes.append(size)
        cur_bytes += size
    waves.append(Wave(first_index + len(waves), tuple(cur), tuple(cur_sizes)))
    return waves


def staging_layout(output: str, wave: Wave) -> RunLayout:
    """Where wave ``r<N>`` writes before its commit: ``<out>/_staging/r<N>``, with the wave's run index."""
    return RunLayout(FileSystems.join(output, STAGING, wave.run_id), wave.index)


def _files_under(root: str) -> list[str]:
    found = FileSystems.match([FileSystems.join(root, "**")])[0].metadata_list
    return sorted(m.path for m in found)


def _rel(path: str, root: str) -> str:
    root = root.rstrip("/") + "/"
    if not path.startswith(root):
        raise ValueError(f"{path} is not under {root}")
    return path[len(root) :]


def commit_wave(output: str, wave: Wave) -> None:
    """Journal, move and record the finished wave ``wave`` (see the module docstring)."""
    staging = FileSystems.join(output, STAGING, wave.run_id)
    files = []
    for sub in WAVE_DIRS:
        root = FileSystems.join(staging, sub)
        if path_exists(root):
            files += [_rel(p, staging) for p in _files_under(root) if "/.temp" not in _rel(p, staging)]
    journal = {
        "run": wave.run_id,
        "files": files,
        "shards": [{**shard_key(s), "run": wave.run_id} for s in wave.shards],
    }
    with FileSystems.create(FileSystems.join(staging, JOURNAL)) as fh:
        fh.write(json.dumps(journal, sort_keys=True).encode("utf-8"))
    _roll_forward(output, staging, journal)


def _roll_forward(output: str, staging: str, journal: dict[str, Any]) -> None:
    """Finish a journaled commit; safe to repeat after a kill at any point of it."""
    for rel in journal["files"]:
        src, dst = FileSystems.join(staging, rel), FileSystems.join(output, rel)
        if FileSystems.exists(src):
            if FileSystems.exists(dst):
                FileSystems.delete([dst])
            parent = dst.rsplit("/", 1)[0]
            if not FileSystems.exists(parent):
                FileSystems.mkdirs(parent)
            FileSystems.rename([src], [dst])
    entries = read_manifest(output)
    if not any(e.get("run") == journal["run"] for e in entries):
        write_manifest(output, entries + journal["shards"])
    delete_tree(staging)
    root = FileSystems.join(output, STAGING)
    if FileSystems.exists(root) and not _files_under(root):
        delete_tree(root)


def recover_staging(output: str) -> list[str]:
    """At start-up: roll forward journaled waves, discard unjournaled ones. Returns what was done."""
    root = FileSystems.join(output, STAGING)
    if not path_exists(root):
        return []
    done = []
    journals = FileSystems.match([FileSystems.join(root, "*", JOURNAL)])[0].metadata_list
    for meta in sorted(journals, key=lambda m: m.path):
        staging = meta.path.rsplit("/", 1)[0]
        with FileSystems.open(meta.path) as fh:
            journal = json.loads(fh.read().decode("utf-8"))
        _roll_forward(output, staging, journal)
        done.append(f"committed {journal['run']}")
    if path_exists(root):
        left = _files_under(root)
        delete_tree(root)
        if left:
            done.append("discarded unfinished waves")
    return done


__all__ = [
    "MANIFEST",
    "STAGING",
    "Wave",
    "commit_wave",
    "plan_waves",
    "recover_staging",
    "shard_size",
    "staging_layout",
]
