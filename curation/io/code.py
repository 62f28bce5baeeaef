"""Code reader: a directory tree (one repository), single source files, or JSONL/Parquet records with
``repo``, ``path`` and ``content`` (or ``text``).

Every file becomes a document with ``repo``, ``path`` and ``code_language`` (from the file name), or a
reject: ``vendored`` / ``generated`` (path rules, content not read), ``too_large``, ``binary_file`` (NUL
bytes or not UTF-8), ``empty``, ``minified``, ``generated`` (head markers). LICENSE/COPYING/NOTICE files
are kept as documents with ``code_language = "license-text"`` so the license stage can propagate a
repository's license to its files. The record key is ``repo/path`` (``repo/#<index>`` for records
without a ``path``, which are accepted with ``path`` null). Trees are walked without following symlinks
out of them (see :func:`list_tree`).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from typing import Any

from apache_beam.io.filesystems import FileSystems

from curation.document import Document, Reject
from curation.io.code_checks import content_reject, is_binary, language_of, path_reject
from curation.io.common import ReadContext
from curation.io.records import KeyDeduper, extra_meta, get_str, index_key, iter_records
from curation.io.streams import inside, is_local, strip_compression
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


Problem = tuple[str, str] | None  # (reject reason, message) for an entry that must not be read


def list_tree(root: str) -> list[tuple[str, str, Problem]]:
    """Sorted (relative path, full path, problem) of the files under ``root`` (skipping VCS folders).

    Local trees are walked without following symlinks: a symlink whose target resolves outside the tree
    is listed with the problem ``symlink_outside_input``, one to a folder inside it with ``symlinked_dir``
    (its files are read where they really are). FIFOs, devices and sockets are listed and refused when
    read (``not_regular_file``). File names are kept as they are: a ``\\`` is a character, not a separator,
    and bytes that are not UTF-8 (``surrogateescape``) become U+FFFD in ``Document.path`` at read.
    """
    root = root.rstrip("/") or "/"
    if is_local(root):
        return _walk_local(root)
    try:
        metas = FileSystems.match([root + "/**"])[0].metadata_list
    except Exception:
        return []
    out: list[tuple[str, str, Problem]] = []
    for m in metas:
        rel = m.path[len(root) + 1 :]
        if not rel or SKIP_DIRS.intersection(rel.split("/")[:-1]):
            continue
        out.append((rel, m.path, None))
    out.sort()
    return out


def _walk_local(root: str) -> list[tuple[str, str, Problem]]:
    real_root = os.path.realpath(root)
    out: list[tuple[str, str, Problem]] = []
    stack = [("", root)]
    while stack:
        rel_dir, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            if rel_dir:
                out.append((rel_dir, folder, ("unreadable_file", f"cannot list folder: {exc.strerror}")))
            continue
        for e in entries:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            try:
                is_link = e.is_symlink()
                if not is_link and e.is_dir(follow_symlinks=False):
                    if e.name not in SKIP_DIRS:
                        stack.append((rel, e.path))
                    continue
            except OSError as exc:
                out.append((rel, e.path, ("unreadable_file", f"{type(exc).__name__}: {exc.strerror}")))
                continue
            problem: Problem = None
            if is_link:
                target = os.path.realpath(e.path)
                if not inside(target, real_root):
                    problem = ("symlink_outside_input", "symlink to a path outside the tree; not followed")
                elif os.path.isdir(target):
                    problem = ("symlinked_dir", "symlink to a folder of the tree; not followed")
            out.append((rel, e.path, problem))
    out.sort()
    return out


def _tree(ctx: ReadContext) -> Iterator[Document | Reject]:
    repo = ctx.options.repo or posixpath.basename(ctx.shard.path.rstrip("/"))
    files = list_tree(ctx.shard.path)
    if not files:
        yield ctx.reject(index_key(0), "empty", error=f"no files under {ctx.shard.rel}", repo=repo)
        return
    for rel, full, problem in files:
        if problem is not None and not (ctx.options.allow_symlinks_outside and problem[0] != "symlinked_dir"):
            key = f"{repo}/{rel}"
            yield ctx.reject(key, problem[0], error=problem[1], **_fields(repo, rel))
            continue
        yield _file(ctx, full, repo, rel)


def _fields(repo: str | None, path: str | None, language: str | None = None) -> dict[str, Any]:
    return {"repo": repo, "path": path, "code_language": (language_of(path) if path else None) or language}


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
    bad = content_reject(fields["path"] or "", text, ctx.options, fields["code_language"])
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
        if path is None:  # accepted: `path` null, language from the record (key: the record index)
            key = f"{repo}/{index_key(index)}" if repo else index_key(index)
        else:
            key = dedupe(f"{repo}/{path}" if repo else path)
        fields = _fields(repo, path, get_str(obj, "language", "lang"))
        fields["meta"] = extra_meta(obj, _USED | set(text_fields))
        by_path = path_reject(path, ctx.options) if path is not None else None
        text = get_str(obj, *text_fields)
        if by_path is not None:
            yield ctx.reject(key, by_path[0], error=by_path[1], text=text or "", **fields)
        elif text is None:
            yield ctx.reject(key, "missing_field:content", error="code record has no content/text", **fields)
        elif "\x00" in text[:8000]:
            yield ctx.reject(key, "binary_file", error="NUL character in the first 8000 characters", **fields)
        else:
            yield _classify_text(ctx, key, text, fields)
