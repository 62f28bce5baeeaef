"""``expand_sources``: turn the config's sources into a sorted, deterministic list of :class:`Shard`.

Globs are resolved relative to the config's folder (``cfg.base_dir``) unless absolute or URLs, and
matched with Beam's ``FileSystems`` so ``gs://`` / ``s3://`` work: ``*`` does not cross ``/``, ``**``
does. Object-store options (``--s3_endpoint_url``, credentials, ``--project``) must be set with
``FileSystems.set_options`` before planning (``curation.run.run`` does); a scheme Beam has no filesystem
for (``https://``, or ``gs://`` without the ``[gcp]`` extra) and a listing that fails (no such bucket,
access denied, no credentials) are :class:`~curation.rules.ConfigError` naming the URL and the cause,
never "matches nothing". A directory matched by a code source's glob is a code tree shard
(directories are found as the ancestors of listed files, which also works on object stores). ``rel``
is the path relative to the glob's base folder (the part before the first wildcard), so ids never
depend on where the data lives.
"""

from __future__ import annotations

import os
import posixpath
import re

from apache_beam.io.filesystem import BeamIOError, FileSystem
from apache_beam.io.filesystems import FileSystems

from curation.config import PipelineConfig, SourceSpec
from curation.io.common import Shard
from curation.io.options import parse_options
from curation.io.streams import compression_of, strip_compression
from curation.rules import ConfigError

_GLOB = re.compile(r"[*?\[]")
FORMATS = ("jsonl", "parquet", "warc", "text", "tree")
_ALLOWED: dict[str, tuple[str, ...]] = {
    "web": ("jsonl", "parquet", "warc", "text"),
    "book": ("jsonl", "parquet", "text"),
    "code": ("jsonl", "parquet", "text", "tree"),
    "conversation": ("jsonl", "parquet"),
}


def detect_format(name: str, is_dir: bool, kind: str) -> str | None:
    """Format from the file name (compression suffix ignored); ``None`` when it cannot be told."""
    if is_dir:
        return "tree" if kind == "code" else None
    base = strip_compression(name.lower())
    if base.endswith((".warc", ".wet", ".arc")):
        return "warc"
    if base.endswith((".jsonl", ".json", ".ndjson")):
        return "jsonl"
    if base.endswith(".parquet"):
        return None if compression_of(name) else "parquet"
    if base.endswith((".txt", ".text")):
        return "text"
    return "text" if kind == "code" else None  # a single source file


def _is_url(p: str) -> bool:
    return "://" in p


def _resolve(cfg: PipelineConfig, pattern: str) -> str:
    if _is_url(pattern) or os.path.isabs(pattern):
        return pattern
    return os.path.normpath(os.path.join(str(cfg.base_dir), pattern))


def _join(a: str, b: str) -> str:
    return a.rstrip("/") + "/" + b


def _rel(base: str, path: str) -> str:
    return path[len(base.rstrip("/")) + 1 :].replace("\\", "/")


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


# URL scheme -> the extra of this package that installs Beam's filesystem for it.
SCHEME_EXTRAS = {"gs": "curation[gcp]", "s3": "curation[aws]", "hdfs": "apache-beam[hadoop]"}


class StorageError(Exception):
    """Listing an input location failed; the message names the URL and the underlying cause."""


def _cause(exc: BaseException) -> str:
    """The innermost error of Beam's nested ``BeamIOError`` (``{path: exception}`` details)."""
    seen = 0
    while isinstance(exc, BeamIOError) and exc.exception_details and seen < 10:
        inner = next(iter(exc.exception_details.values()))
        if not isinstance(inner, BaseException):
            break
        exc, seen = inner, seen + 1
    return f"{type(exc).__name__}: {exc}"


def filesystem_problem(path: str) -> str | None:
    """``None`` when Beam can read ``path``; else why not, naming the scheme and what to install."""
    if not _is_url(path):
        return None
    scheme = path.split("://", 1)[0].lower()
    try:
        FileSystems.get_filesystem(path)
    except ValueError:
        extra = SCHEME_EXTRAS.get(scheme)
        if extra:
            return f"no filesystem for {scheme}:// URLs ({path}): install {extra}"
        known = ", ".join(f"{s}://" for s in SCHEME_EXTRAS)
        return (
            f"{scheme}:// is not a supported storage ({path}); use a local path or {known} "
            f"(download {scheme}:// files first)"
        )
    except BeamIOError as exc:
        return f"cannot use {path}: {_cause(exc)}"
    return None


def _list(base: str) -> list[str]:
    """Every file under ``base`` (recursive). Raises :class:`StorageError` naming ``base`` on failure."""
    try:
        result = FileSystems.match([_join(base, "**")])[0]
    except BeamIOError as exc:
        raise StorageError(f"cannot list {base}: {_cause(exc)}") from exc
    return sorted(m.path for m in result.metadata_list)


def _exists(path: str) -> bool:
    try:
        return FileSystems.exists(path)
    except BeamIOError as exc:
        raise StorageError(f"cannot read {path}: {_cause(exc)}") from exc


def match_pattern(pattern: str) -> list[tuple[str, bool, str]]:
    """Sorted ``(path, is_dir, rel)`` matched by ``pattern`` (files and, for trees, directories)."""
    if not _GLOB.search(pattern):
        p = pattern.rstrip("/")
        if _exists(p) and not (not _is_url(p) and os.path.isdir(p)):
            return [(p, False, posixpath.basename(p))]
        if _list(p):  # a directory (or an object-store prefix with objects under it)
            return [(p, True, posixpath.basename(p))]
        return []
    prefix = _GLOB.split(pattern, maxsplit=1)[0]
    base = prefix if prefix.endswith("/") else posixpath.dirname(prefix)
    base = base.rstrip("/") or "/"
    regex = re.compile(FileSystem.translate_pattern(pattern))
    found: dict[str, tuple[str, bool, str]] = {}
    for path in _list(base):
        rel = _rel(base, path)
        if regex.match(path):
            if not _hidden(rel):
                found.setdefault(path, (path, False, rel))
            continue
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            d = _join(base, "/".join(parts[:depth]))
            if regex.match(d):
                if not _hidden("/".join(parts[:depth])):
                    found.setdefault(d, (d, True, "/".join(parts[:depth])))
                break
    return sorted(found.values())


def _subdirs(path: str) -> list[str]:
    """Immediate sub-folders of a tree (for ``tree_layout: repos``)."""
    subs = set()
    for p in _list(path):
        rel = _rel(path, p)
        if "/" in rel and not rel.startswith("."):
            subs.add(rel.split("/", 1)[0])
    return sorted(subs)


def _source_shards(cfg: PipelineConfig, i: int, src: SourceSpec) -> list[Shard]:
    name = src.name or f"{src.kind}-{i}"
    opts = parse_options(src.options, file=cfg.path or None, key=f"sources[{i}].options")
    out: dict[str, Shard] = {}
    key = f"sources[{i}].paths"
    for pattern in src.paths:
        full = _resolve(cfg, pattern)
        problem = filesystem_problem(full)
        if problem:
            raise ConfigError(cfg.path or None, key, problem)
        try:
            matches = match_pattern(full)
        except StorageError as exc:
            raise ConfigError(cfg.path or None, key, str(exc)) from exc
        if not matches:
            hint = " (object stores list a missing bucket as empty: check the bucket)" * _is_url(full)
            raise ConfigError(cfg.path or None, key, f"pattern {pattern!r} ({full}) matches nothing{hint}")
        for path, is_dir, rel in matches:
            fmt = src.format if src.format != "auto" else detect_format(path, is_dir, src.kind)
            allowed = _ALLOWED[src.kind]
            if fmt is None or fmt not in allowed or (fmt == "tree") != is_dir:
                what = "directory" if is_dir else "file"
                raise ConfigError(
                    cfg.path or None,
                    f"sources[{i}].format",
                    f"cannot read {what} {rel!r} as {src.kind} ({fmt or 'unknown format'}); "
                    f"allowed formats for {src.kind}: {', '.join(allowed)}"
                    + ("; code trees need format tree" if is_dir else ""),
                )
            if fmt == "tree" and opts.tree_layout == "repos":
                for sub in _subdirs(path):
                    sub_rel = f"{rel}/{sub}"
                    out[_join(path, sub)] = Shard(
                        name, src.kind, _join(path, sub), "tree", src.license, sub_rel, dict(src.options)
                    )
                continue
            out[path] = Shard(name, src.kind, path, fmt, src.license, rel, dict(src.options))
    return list(out.values())


def expand_sources(cfg: PipelineConfig) -> list[Shard]:
    """All shards of all sources, sorted by (source, rel, path); raises ConfigError on bad sources."""
    shards: list[Shard] = []
    for i, src in enumerate(cfg.sources):
        shards.extend(_source_shards(cfg, i, src))
    names: dict[tuple[str, str], str] = {}
    for s in shards:
        other = names.setdefault((s.source, s.rel), s.path)
        if other != s.path:
            raise ConfigError(
                cfg.path or None,
                "sources",
                f"source {s.source!r} has two shards with the same relative path "
                f"{s.rel!r} ({other}, {s.path}); give the sources different names",
            )
    return sorted(shards, key=lambda s: (s.source, s.rel, s.path))
