"""Code reader: a directory tree (one repository), single source files, or JSONL/Parquet records with
``repo``, ``path`` and ``content`` (or ``text``).

Every file becomes a document with ``repo``, ``path`` and ``code_language`` (from the file name), or a
reject: ``vendored`` / ``generated`` (path rules, content not read), ``too_large``, ``binary_file`` (NUL
bytes or not UTF-8), ``empty``, ``minified``, ``generated`` (head markers). LICENSE/COPYING/NOTICE files
are kept as documents with ``code_language = "license-text"`` so the license stage can propagate a
repository's license to its files. The record key is ``repo/path``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from apache_beam.io.filesystems import FileSystems

from curation.document import Document, Reject
from curation.io.code_checks import content_reject, is_binary, language_of, path_reject
from curation.io.common import ReadContext
from curation.io.records import KeyDeduper, extra_meta, get_str, index_key, iter_records
from curation.io.streams import strip_compression
from curation.io.textfile import read_file_bytes

SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__"})  # VCS internals/caches: not source files
_USED = frozenset({"repo", "path", "content", "language", "lang"})


def read_code(ctx: ReadContext) -> Iterator[Document | Reject]:
    fmt = ctx.shard.format
    if fmt == "tree":
        yield from _tree(ctx)
    elif fmt == "text":
        path = strip_compression(ctx.shard.rel)
        yield _file(ctx, ctx.shard.path, ctx.options.repo, path)
    else:
        yield from _records(ctx)


def list_tree(root: str) -> list[tuple[str, str]]:
    """Sorted (relative path, full path) of the files under ``root`` (skipping VCS folders)."""
    root = root.rstrip("/")
    try:
        metas = FileSystems.match([root + "/**"])[0].metadata_list
    except Exception:
        return []
    out = []
    for m in metas:
        rel = m.path[len(root) + 1 :].replace("\\", "/")
        if not rel or SKIP_DIRS.intersection(rel.split("/")[:-1]):
            continue
        out.append((rel, m.path))
    out.sort()
    return out


def _tree(ctx: ReadContext) -> Iterator[Document | Reject]:
    repo = ctx.options.repo or posixpath.basename(ctx.shard.path.rstrip("/"))
    files = list_tree(ctx.shard.path)
    if not files:
        yield ctx.reject(index_key(0), "empty", error=f"no files under {ctx.shard.rel}", repo=repo)
        return
    for rel, full in files:
        yield _file(ctx, full, repo, rel)


def _fields(repo: str | None, path: str, language: str | None = None) -> dict[str, Any]:
    return {"repo": repo, "path": path, "code_language": language_of(path) or language}


def _file(ctx: ReadContext, full: str, repo: str | None, path: str) -> Document | Reject:
    key = f"{repo}/{path}" if repo else path
    fields = _fields(repo, path)
    by_path = path_reject(path, ctx.options)
    if by_path is not None:
        return ctx.reject(key, by_path[0], error=by_path[1], **fields)
    data = read_file_bytes(ctx, full, key, **fields)
    if isinstance(data, Reject):
        return data
    return _classify_bytes(ctx, key, data, fields)


def _classify_bytes(ctx: ReadContext, key: str, data: bytes, fields: dict[str, Any]) -> Document | Reject:
    if is_binary(data):
        return ctx.reject(key, "binary_file", raw=data, error="NUL byte in the first 8000 bytes", **fields)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return ctx.reject(
            key, "binary_file", raw=data, error=f"not UTF-8 at byte {exc.start}: {exc.reason}", **fields
        )
    return _classify_text(ctx, key, text.removeprefix("\ufeff"), fields)


def _classify_text(ctx: ReadContext, key: str, text: str, fields: dict[str, Any]) -> Document | Reject:
    doc = ctx.check(key, text, **fields)
    if isinstance(doc, Reject):
        return doc
    bad = content_reject(fields["path"], text, ctx.options)
    if bad is not None:
        return ctx.reject(key, bad[0], error=bad[1], text=text, **fields)
    return doc


def _records(ctx: ReadContext) -> Iterator[Document | Reject]:
    dedupe = KeyDeduper()
    text_fields = (ctx.options.text_field, "content", "text")
    for item in iter_records(ctx):
        if isinstance(item, Reject):
            yield item
            continue
        index, obj = item
        repo = get_str(obj, "repo")
        path = get_str(obj, "path")
        if path is None:
            yield ctx.reject(
                index_key(index), "missing_field:path", error="code record has no path", repo=repo
            )
            continue
        key = dedupe(f"{repo}/{path}" if repo else path)
        fields = _fields(repo, path, get_str(obj, "language", "lang"))
        fields["meta"] = extra_meta(obj, _USED | set(text_fields))
        by_path = path_reject(path, ctx.options)
        text = get_str(obj, *text_fields)
        if by_path is not None:
            yield ctx.reject(key, by_path[0], error=by_path[1], text=text or "", **fields)
        elif text is None:
            yield ctx.reject(key, "missing_field:content", error="code record has no content/text", **fields)
        elif "\x00" in text[:8000]:
            yield ctx.reject(key, "binary_file", error="NUL character in the first 8000 characters", **fields)
        else:
            yield _classify_text(ctx, key, text, fields)
