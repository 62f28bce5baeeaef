"""What every reader shares: the :class:`Shard` unit of work and a context that builds documents/rejects.

The context fills the fields every document of a shard has in common (stable id, source kind, source,
manifest license) and applies the input limits (``empty``, ``too_large``) the same way for all readers,
so the readers themselves only map records to fields. It is also the one sanitising step: every document
and reject it builds goes through :func:`curation.document.sanitize_document` (lone surrogates -> U+FFFD
in every string field, counted in the signal ``read.lone_surrogates``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from curation.config import Limits
from curation.document import Document, Reject, sanitize_document, stable_id
from curation.io.options import ReaderOptions, options_of

STAGE = "read"


@dataclass(frozen=True)
class Shard:
    """One unit of reading work (picklable; built by :func:`curation.io.expand_sources`)."""

    source: str  # the SourceSpec.name (or "<kind>-<index>" if empty)
    kind: str  # web | book | code | conversation
    path: str  # file path/URL as Beam FileSystems understands it, or a directory for code trees
    format: str  # resolved: jsonl | parquet | warc | text | tree
    license: str | None  # manifest license from the config (SPDX id)
    rel: str  # path relative to the glob's base folder; used in stable ids (never absolute paths)
    options: dict = field(default_factory=dict)  # SourceSpec.options


class ReadContext:
    """Builds the documents and rejects of one shard (ids, limits, manifest license)."""

    def __init__(self, shard: Shard, limits: Limits) -> None:
        self.shard = shard
        self.limits = limits
        self.options: ReaderOptions = options_of(shard.options)
        self._license: dict[str, Any] = (
            {"license": shard.license, "license_evidence": "manifest", "license_confidence": 1.0}
            if shard.license
            else {}
        )

    @property
    def root(self) -> str:
        """The input root of the shard: a code tree's folder, else the folder its glob was based on.

        Readers never follow a symlink that resolves outside it (``symlink_outside_input``).
        """
        path, rel = self.shard.path.rstrip("/"), self.shard.rel.strip("/")
        if self.shard.format == "tree" or not rel:
            return path
        if path.endswith("/" + rel):
            return path[: -len(rel) - 1] or "/"
        return path.rsplit("/", 1)[0] or "/"

    def doc_id(self, key: str) -> str:
        """Stable id from (source, shard path relative to its glob base, record key)."""
        return stable_id(self.shard.source, self.shard.rel, key)

    def document(self, key: str, text: str, **fields: Any) -> Document:
        """A document of this shard, sanitised (see the module docstring)."""
        doc = Document(
            id=self.doc_id(key),
            source_kind=self.shard.kind,
            source=self.shard.source,
            text=text,
            **self._license,
            **fields,
        )
        return sanitize_document(doc)

    def reject(
        self,
        key: str,
        reason: str,
        *,
        error: str | None = None,
        raw: bytes | None = None,
        text: str = "",
        **fields: Any,
    ) -> Reject:
        """A read-stage reject; ``raw`` is cut to ``Limits.raw_bytes_in_rejects`` bytes."""
        doc = self.document(key, text, **fields)
        if raw is not None:
            raw = raw[: self.limits.raw_bytes_in_rejects]
        return Reject(doc=doc, stage=STAGE, reason=reason, reasons=(reason,), raw=raw, error=error)

    def too_large(self, key: str, text: str, **fields: Any) -> Reject | None:
        """A ``too_large`` reject when ``text`` exceeds ``Limits.max_doc_bytes`` (UTF-8), else ``None``."""
        # UTF-8 is at most 4 bytes per code point: only measure bytes when the limit may be exceeded.
        if len(text) * 4 <= self.limits.max_doc_bytes:
            return None
        size = len(text.encode("utf-8", "surrogatepass"))
        if size <= self.limits.max_doc_bytes:
            return None
        return self.reject(
            key,
            "too_large",
            error=f"document is {size} bytes > max_doc_bytes {self.limits.max_doc_bytes}",
            raw=text[: self.limits.raw_bytes_in_rejects].encode("utf-8", "replace"),
            **fields,
        )

    def check(self, key: str, text: str, **fields: Any) -> Document | Reject:
        """Apply the common limits to a decoded text and build the document (or the reject)."""
        big = self.too_large(key, text, **fields)
        if big is not None:
            return big
        if is_empty(text, self.limits.min_doc_chars):
            return self.reject(key, "empty", text=text, **fields)
        return self.document(key, text, **fields)


def is_empty(text: str, min_chars: int) -> bool:
    """Fewer than ``min_chars`` non-whitespace characters (no per-character Python loop)."""
    if min_chars <= 1:
        return not text or text.isspace()
    if len(text) < min_chars:
        return True
    head = text[: min_chars * 8]
    if sum(map(len, head.split())) >= min_chars:
        return False
    return sum(map(len, text.split())) < min_chars


def decode_utf8(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) for valid UTF-8 (a BOM is dropped), else (None, error message)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"invalid UTF-8 at byte {exc.start}: {exc.reason}"
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def str_meta(values: Mapping[str, Any]) -> dict[str, str]:
    """Meta values are strings; drop ``None`` and stringify the rest."""
    return {k: v if isinstance(v, str) else str(v) for k, v in values.items() if v is not None}
