"""The one document schema: a frozen dataclass for pipeline code and the matching pyarrow schemas.

Every stage receives and returns :class:`Document` values. Stages never mutate a document; they return a
copy made with :meth:`Document.evolve` (``dataclasses.replace``) carrying new signals or new text.

Signals are namespaced (``"<stage>.<name>"``, e.g. ``"quality.gopher.word_count"``) and hold JSON scalars
or lists of strings, so they can be stored as one JSON column and re-read by the report (what-if
analysis recomputes decisions from stored signals). Rejected documents become :class:`Reject` rows.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pickle
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import zstandard

SOURCE_KINDS: tuple[str, ...] = ("web", "book", "code", "conversation")
UNDETERMINED_LANG = "und"

SignalValue = bool | int | float | str | list[str] | None
Message = tuple[str, str]  # (role or speaker, content)


def stable_id(*parts: str) -> str:
    """A deterministic document id: the first 16 bytes of SHA-256 over the NUL-joined parts, as hex.

    Callers pass what identifies a record in its source (e.g. shard name + record offset, or repo + path),
    never anything that depends on the runner, worker or time.
    """
    h = hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Document:
    """One document flowing through the pipeline.

    ``source`` names the shard (file path or dataset name) the document came from. Typed metadata columns
    are ``None`` where they do not apply to a source kind. ``html`` keeps the raw page of web documents for
    stages that need markup (license links); it is not written to the cleaned output.
    """

    id: str
    source_kind: str
    source: str
    text: str
    url: str | None = None
    path: str | None = None
    repo: str | None = None
    title: str | None = None
    author: str | None = None
    code_language: str | None = None
    messages: tuple[Message, ...] | None = None
    html: str | None = None
    meta: Mapping[str, str] = field(default_factory=dict)
    lang: str | None = None
    lang_score: float | None = None
    license: str | None = None
    license_evidence: str | None = None
    license_confidence: float | None = None
    token_count: int = 0
    signals: Mapping[str, SignalValue] = field(default_factory=dict)

    def evolve(self, **changes: Any) -> Document:
        """Return a copy with ``changes`` applied (the document itself is immutable)."""
        return dataclasses.replace(self, **changes)

    def with_signals(self, signals: Mapping[str, SignalValue], **changes: Any) -> Document:
        """Return a copy whose signals are the current ones updated with ``signals``."""
        merged = dict(self.signals)
        merged.update(signals)
        return dataclasses.replace(self, signals=merged, **changes)

    def without_html(self) -> Document:
        """This document without its raw HTML (itself if it has none)."""
        return self if self.html is None else dataclasses.replace(self, html=None)

    @property
    def lang_key(self) -> str:
        """Language used as an accounting key: the detected language, or ``und`` before language ID."""
        return self.lang or UNDETERMINED_LANG

    @property
    def num_bytes(self) -> int:
        """UTF-8 size of the text (invalid surrogates are counted as replaced)."""
        return len(self.text.encode("utf-8", "replace"))

    def __reduce__(self) -> tuple[Any, tuple[bytes]]:
        # Every coder that pickles a document (Beam's fallback coder on materialised PCollections and
        # shuffles, multi-process data transfer, and the runner's element-size sampling, which pickles
        # ~50 elements of every PCollection per bundle) gets its fields as one plain pickle: see
        # pack_document. The dedup join, where the whole corpus waits in a runner, compresses explicitly.
        return unpack_document, (pack_document(self, compress=False),)


@dataclass(frozen=True, slots=True)
class Reject:
    """A document (or unreadable record) removed by a stage, with the stage and the reason.

    ``reason`` is the primary reason (a short machine-readable string such as ``empty``,
    ``quality:gopher.min_words`` or ``duplicate_of:<id>``); ``reasons`` lists every reason that fired, so
    overlapping filters can be analysed. For unreadable input ``doc.text`` is empty, ``raw`` holds the
    (truncated) raw bytes and ``error`` the reader's error message.
    """

    doc: Document
    stage: str
    reason: str
    reasons: tuple[str, ...] = ()
    raw: bytes | None = None
    error: str | None = None

    @property
    def all_reasons(self) -> tuple[str, ...]:
        return self.reasons or (self.reason,)


# -- text sanitising ---------------------------------------------------------------------------------

SURROGATES_SIGNAL = "read.lone_surrogates"
_SURROGATE = re.compile("[\ud800-\udfff]")
_STR_FIELDS: tuple[str, ...] = (
    "id", "source_kind", "source", "text", "url", "path", "repo", "title", "author", "code_language", "html",
    "lang", "license", "license_evidence",
)  # fmt: skip
_SMALL_FIELDS = tuple(n for n in _STR_FIELDS if n not in ("text", "html"))


def replace_surrogates(value: str) -> tuple[str, int]:
    """``value`` with every lone surrogate (U+D800-U+DFFF) replaced by U+FFFD, and how many there were.

    Python strings may carry them (JSON ``"\\ud800"`` escapes, file names decoded with ``surrogateescape``)
    but UTF-8 cannot: Parquet writers and fastText raise on them. Valid text is returned as it is; the
    check is a UTF-8 encode (about 2 GB/s on the dev corpus), the substitution runs only when it fails.
    """
    if value.isascii():
        return value, 0
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.subn("\ufffd", value)
    return value, 0


def _valid(value: Any) -> bool:
    if type(value) is not str or value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _all_valid(doc: Document) -> bool:
    """Fast path of :func:`sanitize_document`: every string of ``doc`` is valid UTF-8 (the small fields
    are checked as one joined string)."""
    if not (_valid(doc.text) and _valid(doc.html)):
        return False
    try:
        small = "".join([getattr(doc, name) or "" for name in _SMALL_FIELDS])
        small += "".join(doc.meta) + "".join([v for v in doc.meta.values() if type(v) is str])
        if doc.messages:
            small += "".join([r + c for r, c in doc.messages])
    except TypeError:  # a non-string where a string belongs: let the full pass look at it
        return False
    if not _valid(small):
        return False
    for k, v in doc.signals.items():
        if not (_valid(k) and (_valid(v) if type(v) is not list else all(map(_valid, v)))):
            return False
    return True


def sanitize_document(doc: Document) -> Document:
    """``doc`` with lone surrogates replaced in every string field (text, url, path, title, messages,
    meta keys and values, string signals ...); the number replaced is the signal ``read.lone_surrogates``.

    The readers apply this once to every document and reject they build, so no later stage and no writer
    ever sees a string that is not valid UTF-8. Returns ``doc`` itself when nothing needed replacing.
    """
    if _all_valid(doc):
        return doc
    changes: dict[str, Any] = {}
    total = 0
    for name in _STR_FIELDS:
        value = getattr(doc, name)
        if isinstance(value, str):
            new, n = replace_surrogates(value)
            if n:
                changes[name] = new
                total += n
    if doc.messages:
        msgs = []
        count = 0
        for role, content in doc.messages:
            r, a = replace_surrogates(role)
            c, b = replace_surrogates(content)
            msgs.append((r, c))
            count += a + b
        if count:
            changes["messages"] = tuple(msgs)
            total += count
    for name in ("meta", "signals"):
        mapping = getattr(doc, name)
        if not mapping:
            continue
        fixed: dict[str, Any] = {}
        count = 0
        for k, v in mapping.items():
            k2, a = replace_surrogates(k)
            if isinstance(v, str):
                v, b = replace_surrogates(v)
            elif isinstance(v, list):
                pairs = [replace_surrogates(x) if isinstance(x, str) else (x, 0) for x in v]
                b = sum(n for _, n in pairs)
                v = [x for x, _ in pairs] if b else v
            else:
                b = 0
            fixed[k2] = v
            count += a + b
        if count:
            changes[name] = fixed
            total += count
    if not total:
        return doc
    signals = dict(changes.get("signals", doc.signals))
    signals[SURROGATES_SIGNAL] = total
    changes["signals"] = signals
    return dataclasses.replace(doc, **changes)


# -- compact serialisation ---------------------------------------------------------------------------

# Documents are pickled whenever a runner materialises a PCollection or shuffles it (between fused stages,
# between processes) and whenever it samples element sizes for its metrics. Text and raw HTML dominate
# their size and compress ~3.7x with zstd level 1 at ~440 MB/s (decompression ~1.1 GB/s), measured on the
# dev corpus, but the 1x dev-corpus run pickles ~5,300 documents (half of them size samples): compressing
# each cost 0.16 CPU-s for memory it did not need. So only the dedup join, which holds every document of
# the corpus at once, compresses (explicit pack_document); the other pickles are plain. Packed bytes are
# transient (they never outlive a run), so the layout is simply the dataclass fields in order.
_PLAIN, _ZSTD = b"p", b"z"
_MIN_COMPRESS = 512  # bytes of pickled fields below which compression does not pay
_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Document))
_codecs = threading.local()  # one zstd (de)compressor pair per thread: the objects are not thread-safe


def _zstd() -> tuple[zstandard.ZstdCompressor, zstandard.ZstdDecompressor]:
    pair = getattr(_codecs, "pair", None)
    if pair is None:
        pair = _codecs.pair = (zstandard.ZstdCompressor(level=1), zstandard.ZstdDecompressor())
    return pair


def pack_document(doc: Document, compress: bool = True) -> bytes:
    """``doc`` as compact bytes: its fields pickled, zstd-compressed unless tiny or ``compress`` is off
    (see unpack_document).

    Used explicitly where a document must wait in a runner as bytes rather than as a Python object (the
    value side of a GroupByKey is decoded by some runners), and uncompressed by ``Document.__reduce__``.
    """
    raw = pickle.dumps(tuple(getattr(doc, name) for name in _FIELD_NAMES), protocol=pickle.HIGHEST_PROTOCOL)
    if not compress or len(raw) < _MIN_COMPRESS:
        return _PLAIN + raw
    return _ZSTD + _zstd()[0].compress(raw)


def unpack_document(packed: bytes) -> Document:
    """The document that :func:`pack_document` packed."""
    tag, body = packed[:1], packed[1:]
    if tag == _ZSTD:
        body = _zstd()[1].decompress(body)
    elif tag != _PLAIN:
        raise ValueError(f"not a packed document (tag {tag!r})")
    return Document(*pickle.loads(body))


_MESSAGES_TYPE = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))

_COMMON_FIELDS: list[pa.Field] = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("source_kind", pa.string(), nullable=False),
    pa.field("source", pa.string()),
    pa.field("text", pa.string()),
    pa.field("url", pa.string()),
    pa.field("path", pa.string()),
    pa.field("repo", pa.string()),
    pa.field("title", pa.string()),
    pa.field("author", pa.string()),
    pa.field("code_language", pa.string()),
    pa.field("messages", _MESSAGES_TYPE),
    pa.field("html", pa.string()),  # raw HTML of web pages, only when output.keep_html is set
    pa.field("meta", pa.string()),  # JSON object
    pa.field("lang", pa.string()),
    pa.field("lang_score", pa.float64()),
    pa.field("license", pa.string()),
    pa.field("license_evidence", pa.string()),
    pa.field("license_confidence", pa.float64()),
    pa.field("token_count", pa.int64()),
    pa.field("signals", pa.string()),  # JSON object of namespaced signals
]

DOCUMENT_SCHEMA = pa.schema(_COMMON_FIELDS)
# The cleaned data is hive-partitioned by source kind (``data/source_kind=<kind>/``): the files leave the
# partition column out (readers such as pyarrow, pandas and DuckDB restore it from the path).
DATA_FILE_SCHEMA = pa.schema([f for f in _COMMON_FIELDS if f.name != "source_kind"])
REJECT_SCHEMA = pa.schema(
    [
        *_COMMON_FIELDS,
        pa.field("stage", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("reasons", pa.list_(pa.string())),
        pa.field("raw", pa.binary()),
        pa.field("error", pa.string()),
    ]
)

_JSON_KW: dict[str, Any] = {"sort_keys": True, "ensure_ascii": False, "separators": (",", ":")}


def _safe_str(value: str | None) -> str | None:
    """Parquet needs valid UTF-8: replace lone surrogates (which Python strings may carry)."""
    if value is None:
        return None
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")


def document_to_row(doc: Document, keep_html: bool = False) -> dict[str, Any]:
    """Flatten a document to a row of :data:`DOCUMENT_SCHEMA` (JSON-encoding meta and signals)."""
    return {
        "id": doc.id,
        "source_kind": doc.source_kind,
        "source": doc.source,
        "text": _safe_str(doc.text),
        "url": doc.url,
        "path": doc.path,
        "repo": doc.repo,
        "title": _safe_str(doc.title),
        "author": _safe_str(doc.author),
        "code_language": doc.code_language,
        "messages": (
            None
            if doc.messages is None
            else [{"role": _safe_str(r), "content": _safe_str(c)} for r, c in doc.messages]
        ),
        "html": _safe_str(doc.html) if keep_html else None,
        "meta": json.dumps(dict(doc.meta), **_JSON_KW),
        "lang": doc.lang,
        "lang_score": doc.lang_score,
        "license": doc.license,
        "license_evidence": doc.license_evidence,
        "license_confidence": doc.license_confidence,
        "token_count": doc.token_count,
        "signals": json.dumps(dict(doc.signals), **_JSON_KW, default=str),
    }


def reject_to_row(rej: Reject) -> dict[str, Any]:
    """Flatten a reject to a row of :data:`REJECT_SCHEMA`."""
    row = document_to_row(rej.doc)
    row.update(
        stage=rej.stage,
        reason=rej.reason,
        reasons=list(rej.all_reasons),
        raw=rej.raw,
        error=_safe_str(rej.error),
    )
    return row


def row_to_document(row: Mapping[str, Any]) -> Document:
    """Inverse of :func:`document_to_row` (used by the report and by tests)."""
    messages = row.get("messages")
    return Document(
        id=row["id"],
        source_kind=row["source_kind"],
        source=row.get("source") or "",
        text=row.get("text") or "",
        url=row.get("url"),
        path=row.get("path"),
        repo=row.get("repo"),
        title=row.get("title"),
        author=row.get("author"),
        code_language=row.get("code_language"),
        messages=None if messages is None else tuple((m["role"], m["content"]) for m in messages),
        html=row.get("html"),
        meta=json.loads(row.get("meta") or "{}"),
        lang=row.get("lang"),
        lang_score=row.get("lang_score"),
        license=row.get("license"),
        license_evidence=row.get("license_evidence"),
        license_confidence=row.get("license_confidence"),
        token_count=int(row.get("token_count") or 0),
        signals=json.loads(row.get("signals") or "{}"),
    )


def render_messages(messages: tuple[Message, ...]) -> str:
    """Render a conversation as ``speaker: content`` lines (the derived ``text`` of conversations).

    Stages that edit messages (normalize, PII) rebuild ``text`` with this function so text and
    structure never disagree.
    """
    return "\n".join(f"{role}: {content}" for role, content in messages)
