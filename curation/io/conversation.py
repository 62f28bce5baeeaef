"""Conversation reader: JSONL/Parquet records with ``messages: [{role|speaker, content}]``.

Also accepted: ``conversations`` for ``messages``, ``from``/``author`` for the speaker and
``text``/``value`` for the content (ShareGPT-style dumps). Structure is kept in ``Document.messages`` as
``(role, content)`` tuples and ``text = render_messages(messages)``. Empty turns and repeated turns are
kept as they are (the quality stage scores them); a conversation whose turns are all blank is ``empty``.
Extra per-message fields (e.g. IRC ``time``) are dropped; extra record fields go to ``meta``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curation.document import Document, Message, Reject, render_messages
from curation.io.common import ReadContext
from curation.io.records import extra_meta, get_str, index_key, iter_records

_ROLE_KEYS = ("role", "speaker", "from", "author")
_CONTENT_KEYS = ("content", "text", "value")
_USED = frozenset({"messages", "conversations", "title"})


def parse_messages(value: Any) -> tuple[Message, ...] | str:
    """The turns as (role, content) tuples, or an error message when the structure is wrong."""
    if not isinstance(value, list):
        return f"messages is {type(value).__name__}, expected a list"
    out: list[Message] = []
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            return f"messages[{i}] is {type(m).__name__}, expected an object"
        role = get_str(m, *_ROLE_KEYS)
        content = next((m[k] for k in _CONTENT_KEYS if k in m), None)
        if content is None:
            content = ""
        if role is None or not isinstance(content, str):
            return f"messages[{i}] needs a string role/speaker and string content"
        out.append((role, content))
    return tuple(out)


def read_conversation(ctx: ReadContext) -> Iterator[Document | Reject]:
    for item in iter_records(ctx):
        if isinstance(item, Reject):
            yield item
            continue
        index, obj = item
        key = index_key(index)
        fields: dict[str, Any] = {"title": get_str(obj, "title"), "meta": extra_meta(obj, _USED)}
        raw = obj.get("messages", obj.get("conversations"))
        if raw is None:
            yield ctx.reject(key, "missing_field:messages", error="record has no messages", **fields)
            continue
        messages = parse_messages(raw)
        if isinstance(messages, str):
            yield ctx.reject(key, "malformed_messages", error=messages, **fields)
            continue
        text = render_messages(messages)
        if not any(c and not c.isspace() for _, c in messages):
            yield ctx.reject(key, "empty", text=text, messages=messages, **fields)
            continue
        yield ctx.check(key, text, messages=messages, **fields)
