"""Normalize stage: Unicode NFC, newline and whitespace normalization, control-character removal.

Why: identical text in different Unicode forms or with different whitespace would escape exact dedup and
skew token counts; control characters (other than newline and tab) are noise from broken encoders.
Code keeps its indentation (leading whitespace is meaningful); prose has runs of spaces collapsed.
Documents that are empty after normalization are rejected with reason ``empty``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Literal

from curation.config import PipelineConfig, StageSpec
from curation.document import Document, render_messages
from curation.rules import ConfigError, load_rules
from curation.stage import DocProcessor, MapStage, Outcome

STAGE = "normalize"

# C0/C1 control characters except TAB (\x09) and LF (\x0a); also DEL.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NEWLINE_RE = re.compile(r"\r\n?|[\u2028\u2029\x85]")
_TRAILING_WS = " \t\u00a0"  # stripped from the end of every line
_SPACE = r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]"
# Two or more inner spaces after a non-space: the same matches as ``(?<=\S){_SPACE}{2,}``, but starting with
# a character class lets the regex engine skip ahead to candidate positions (2x faster).
_INNER_SPACES_RE = re.compile(rf"{_SPACE}(?<=\S{_SPACE}){_SPACE}+")
_ZERO_WIDTH_RE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
# The inner-space pass for text whose only _SPACE character is the ASCII space (no tab, no Unicode space):
# a literal "  " prefix (searched like str.find) and the look-behind after it, instead of a pattern that
# starts at every space of the text. The same matches there (a maximal run of two or more spaces after a
# non-space); ~4x cheaper on prose.
_INNER_ASCII_SPACES_RE = re.compile(r"  (?<=\S  ) *")
_OTHER_SPACES = ("\t", "\u00a0", *map(chr, range(0x2000, 0x200B)), "\u202f", "\u205f", "\u3000")  # but " "
# Cheap pre-checks (substring search or a regex without look-behind is several times faster than the
# passes above): a pass runs only when its pattern can match, so the result is the same.
_NEWLINE_CHARS = ("\r", "\u2028", "\u2029", "\x85")  # one ``in`` (memchr-like) each: cheaper than a regex
_ZERO_WIDTH_CHARS = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
_TRAILING_WS_TUPLE = tuple(_TRAILING_WS)
_SPACE_PAIR_RE = re.compile(f"{_SPACE}{{2}}")
# _CONTROL_RE's characters in UTF-8: C0 controls and DEL are single bytes (never inside a multi-byte
# sequence), C1 controls the lead byte C2 then 80..9F.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F])
_C1_UTF8_RE = re.compile(rb"\xc2[\x80-\x9f]")


@dataclass(frozen=True)
class NormalizeRules:
    """rules/normalize.yaml."""

    unicode_form: Literal["NFC", "NFKC", "none"] = "NFC"
    newlines: bool = True
    strip_control_chars: bool = True
    strip_zero_width: bool = True
    strip_trailing_whitespace: bool = True
    collapse_inner_spaces: bool = True  # never applied to code
    max_consecutive_blank_lines: int = 2  # 0 disables
    min_chars: int = 1  # non-whitespace characters required after normalization

    def __post_init__(self) -> None:
        if self.max_consecutive_blank_lines < 0 or self.min_chars < 0:
            raise ValueError("max_consecutive_blank_lines and min_chars must be >= 0")


def normalize_text(text: str, rules: NormalizeRules, *, is_code: bool = False) -> str:
    """Normalize one text according to ``rules`` (pure; linear in the text length).

    Passes that cannot change the text are skipped (e.g. Unicode passes on ASCII text), which keeps this
    stage cheap: it runs on every document.
    """
    ascii_only = text.isascii()
    if rules.newlines and ("\r" in text if ascii_only else any(c in text for c in _NEWLINE_CHARS)):
        text = _NEWLINE_RE.sub("\n", text)
    if rules.strip_control_chars and _has_control(text, ascii_only):
        text = _CONTROL_RE.sub("", text)
    if not ascii_only:
        if rules.strip_zero_width and any(c in text for c in _ZERO_WIDTH_CHARS):
            text = _ZERO_WIDTH_RE.sub("", text)
        if rules.unicode_form != "none" and not _is_normalized(rules.unicode_form, text):
            text = unicodedata.normalize(rules.unicode_form, text)
    if rules.strip_trailing_whitespace and _has_trailing_space(text, ascii_only):
        # what re.sub(r"[ \t\u00a0]+$", "", text, flags=re.M) does, 5x faster
        text = "\n".join([ln.rstrip(_TRAILING_WS) for ln in text.split("\n")])
    if rules.collapse_inner_spaces and not is_code and _has_space_pair(text):
        text = collapse_inner_spaces(text)
    n = rules.max_consecutive_blank_lines
    if n and "\n" * (n + 2) in text:  # \n{n+2,} spelt with a literal prefix (searched like str.find)
        text = re.sub("\n" * (n + 1) + "\n+", "\n" * (n + 1), text)
    text = text.strip("\n")
    return text + "\n" if is_code and text else text


def _has_control(text: str, ascii_only: bool) -> bool:
    """Whether ``_CONTROL_RE`` can match ``text`` (a pre-check, exact): deleting the control bytes from its
    UTF-8 form (``bytes.translate``, a C loop ~3x cheaper than the regex scan) shortens it, or a C1 control
    (bytes C2 80..9F) is there. ``ascii_only``: ``text`` is known to be ASCII (encoding is a copy)."""
    b = text.encode("ascii") if ascii_only else text.encode("utf-8", "surrogatepass")
    if len(b.translate(None, _CONTROL_BYTES)) != len(b):
        return True
    return not ascii_only and _C1_UTF8_RE.search(b) is not None


def _has_trailing_space(text: str, ascii_only: bool) -> bool:
    """Whether a line of ``text`` ends in a ``_TRAILING_WS`` character (a pre-check, exact); the needles
    spelt out (no generator per call: this runs for every text and conversation turn)."""
    if " \n" in text or "\t\n" in text or text.endswith(_TRAILING_WS_TUPLE):
        return True
    return not ascii_only and "\u00a0\n" in text


def _has_space_pair(text: str) -> bool:
    """Whether ``text`` has two adjacent inner-space characters (a pre-check for ``_INNER_SPACES_RE``)."""
    if text.isascii():
        return "  " in text or " \t" in text or "\t " in text or "\t\t" in text
    if "  " in text:
        return True  # without any other _SPACE character a pair can only be two spaces (one ``in`` each)
    return any(c in text for c in _OTHER_SPACES) and _SPACE_PAIR_RE.search(text) is not None


def collapse_inner_spaces(text: str) -> str:
    """``_INNER_SPACES_RE.sub(" ", text)``: every run of two or more ``_SPACE`` characters after a non-space
    becomes one space. Text whose only such character is the ASCII space (checked: no tab, no Unicode
    space) takes the literal-prefix form ``_INNER_ASCII_SPACES_RE`` (the same matches, tested)."""
    if ("\t" not in text) if text.isascii() else not any(c in text for c in _OTHER_SPACES):
        return _INNER_ASCII_SPACES_RE.sub(" ", text)
    return _INNER_SPACES_RE.sub(" ", text)


def _non_space_at_least(text: str, n: int) -> bool:
    """Whether ``text`` has at least ``n`` non-whitespace characters (``str.split`` whitespace)."""
    if n <= 0:
        return True
    if n == 1:
        return bool(text) and not text.isspace()
    return len("".join(text.split())) >= n


def _is_normalized(form: str, text: str) -> bool:
    return text.isascii() or unicodedata.is_normalized(form, text)  # type: ignore[arg-type]


def _prose_unchanged(text: str, rules: NormalizeRules) -> bool:
    """True only if no pass of ``normalize_text(text, rules)`` (prose) can change ``text``, apart from the
    final ``strip("\n")`` (the caller's to check): every pre-check of that function negative."""
    ascii_only = text.isascii()
    if rules.newlines and ("\r" in text if ascii_only else any(c in text for c in _NEWLINE_CHARS)):
        return False
    if rules.strip_control_chars and _has_control(text, ascii_only):
        return False
    if not ascii_only:
        if rules.strip_zero_width and any(c in text for c in _ZERO_WIDTH_CHARS):
            return False
        if rules.unicode_form != "none" and not _is_normalized(rules.unicode_form, text):
            return False
    if rules.strip_trailing_whitespace and _has_trailing_space(text, ascii_only):
        return False
    if rules.collapse_inner_spaces and _has_space_pair(text):
        return False
    n = rules.max_consecutive_blank_lines
    return not (n and "\n" * (n + 2) in text)


def turns_unchanged(contents: Sequence[str], rules: NormalizeRules) -> bool:
    """True only if ``normalize_text(c, rules) == c`` for every turn ``c`` (then the per-turn calls, ~2/3
    of the stage's cost on conversations, are skipped).

    Checked once on the turns joined by newlines: each pattern a pass looks for occurs in a turn only if
    it occurs in the joined text (a newline is none of the characters the passes remove, pairs of spaces
    never span it, a turn's trailing space is then followed by it), and NFC of the joined text is NFC of
    each turn (a newline never combines or reorders with its neighbours); plus no turn starting or ending
    with a newline (the final strip). A false answer only means: normalise each turn.
    """
    if any(map(str.startswith, contents, repeat("\n"))) or any(map(str.endswith, contents, repeat("\n"))):
        return False
    return _prose_unchanged("\n".join(contents), rules)


class NormalizeProcessor(DocProcessor):
    stage = STAGE

    def __init__(self, rules: NormalizeRules) -> None:
        self.rules = rules

    def process(self, doc: Document) -> Outcome:
        is_code = doc.source_kind == "code"
        if doc.messages is not None:
            if turns_unchanged([content for _, content in doc.messages], self.rules):
                messages = tuple((role.strip(), content) for role, content in doc.messages)
            else:
                messages = tuple(
                    (role.strip(), normalize_text(content, self.rules)) for role, content in doc.messages
                )
            messages = tuple(m for m in messages if m[1])
            text = render_messages(messages)
        else:
            messages = None
            text = normalize_text(doc.text, self.rules, is_code=is_code)
        removed = len(doc.text) - len(text)
        changed = text != doc.text
        out = doc.with_signals(
            {f"{STAGE}.changed": changed, f"{STAGE}.chars_removed": removed},
            text=text if changed else doc.text,
            messages=messages if doc.messages is not None else None,
        )
        if not _non_space_at_least(text, self.rules.min_chars):
            return self.reject(out, "empty")
        return out


def build_stage(spec: StageSpec, cfg: PipelineConfig) -> MapStage:
    path = cfg.rules_path(spec)
    rules = load_rules(path, NormalizeRules)
    if spec.options:
        raise ConfigError(cfg.path, f"stages.{spec.name}.options", "normalize takes no options")
    return MapStage(NormalizeProcessor(rules), batch_size=256, tokenizer=cfg.tokenizer)
