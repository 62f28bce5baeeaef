"""Code evidence: SPDX-License-Identifier lines, package-metadata license fields, the first comment block.

* ``SPDX-License-Identifier: <expression>`` (SPDX spec annex "Using SPDX short identifiers in source
  files"; REUSE 3.0): every such line in the file; several lines combine with AND.
* Package metadata: the ``license`` field of ``package.json`` (npm), ``Cargo.toml`` and
  ``pyproject.toml`` (PEP 639), which hold SPDX expressions.
* The first comment block: leading comment lines (``#``, ``//``, ``--``, ``;``, ``%``), ``/* ... */`` and
  ``<!-- ... -->`` blocks and a leading Python docstring, after an optional shebang / encoding line. That is
  where license notices live (ScanCode and licensee look there too); license text quoted later in a file
  (a string literal in a license-detection tool, say) is not a grant for that file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from curation.stages.license.policy import canonical

_SPDX_LINE_RE = re.compile(r"SPDX-License-Identifier\s*:\s*([^\n\r]*)", re.IGNORECASE)
_LINE_TAIL_RE = re.compile(r"\s*(?:\*/|-->|\"\"\"|'''|\*\)|-\}|%>|\?>)\s*$")
_JSON_LICENSE_RE = re.compile(r'^\s{0,8}"license"\s*:\s*"([^"\n]{1,200})"', re.MULTILINE)
_TOML_LICENSE_RE = re.compile(r'^license\s*=\s*["\']([^"\'\n]{1,200})["\']', re.MULTILINE)
_TOML_PACKAGE_RE = re.compile(r"^\[(?:package|project)\]\s*$", re.MULTILINE)

_LINE_COMMENT_RE = re.compile(r"^\s*(?:#|//|--|;|%|!|\*|REM\b|'|\.\.|\"\s*$)", re.IGNORECASE)
_SHEBANG_RE = re.compile(r"^(?:#!|\s*#.*coding[:=]|<\?php|<\?xml|\ufeff)")
_BLOCK_OPEN = (("/*", "*/"), ("<!--", "-->"), ('"""', '"""'), ("'''", "'''"), ("{-", "-}"), ("(*", "*)"))


def identifier_expression(text: str, max_chars: int) -> str | None:
    """The SPDX expression of the file's ``SPDX-License-Identifier`` line(s) (AND-combined), or None."""
    head = text[:max_chars]
    if "spdx-license-identifier" not in head.lower():
        return None
    exprs: list[str] = []
    for m in _SPDX_LINE_RE.finditer(head):
        raw = _LINE_TAIL_RE.sub("", m.group(1)).strip().strip("\"',;").strip()
        expr = canonical(raw) if raw else None
        if expr and expr not in exprs:
            exprs.append(expr)
    return _and(exprs)


def metadata_expression(text: str, path: str | None, names: Sequence[str]) -> str | None:
    """The ``license`` field of a package.json / Cargo.toml / pyproject.toml document, or None.

    Documents without a path are checked by shape (a JSON object or a TOML ``[package]`` table), since
    some shards carry manifests without their file names.
    """
    base = path.rsplit("/", 1)[-1] if path else None
    if base is not None and base not in names:
        return None
    head = text[:20_000]
    if (base == "package.json" or (base is None and head.lstrip().startswith("{"))) and (
        m := _JSON_LICENSE_RE.search(head)
    ):
        return canonical(m.group(1))
    if (base in ("Cargo.toml", "pyproject.toml") or (base is None and _TOML_PACKAGE_RE.search(head))) and (
        m := _TOML_LICENSE_RE.search(head)
    ):
        return canonical(m.group(1))
    return None


def is_license_file(path: str | None, names: Sequence[str]) -> bool:
    """True for LICENSE / COPYING / ... files (any case, optional extension or suffix: LICENSE-MIT.txt)."""
    if not path:
        return False
    base = path.rsplit("/", 1)[-1].upper()
    return any(
        base == n.upper() or base.startswith((n.upper() + ".", n.upper() + "-", n.upper() + "_"))
        for n in names
    )


def first_comment_block(text: str, max_chars: int) -> str:
    """The leading comment block of a source file (see module docstring), at most ``max_chars`` long."""
    lines = text[: max_chars * 2].split("\n")
    out: list[str] = []
    size = 0
    closer: str | None = None
    i = 0
    while i < len(lines) and size < max_chars:
        line = lines[i]
        stripped = line.strip()
        i += 1
        if closer is not None:
            out.append(line)
            size += len(line) + 1
            if closer in stripped:
                closer = None
            continue
        if not stripped or (not out and _SHEBANG_RE.match(line)):
            out.append(line)
            size += len(line) + 1
            continue
        opened = next(
            ((o, c) for o, c in _BLOCK_OPEN if stripped.startswith(o) or _docstring_start(stripped, o)), None
        )
        if opened is not None:
            o, c = opened
            out.append(line)
            size += len(line) + 1
            rest = stripped[stripped.find(o) + len(o) :]
            if c not in rest:
                closer = c
            continue
        if _LINE_COMMENT_RE.match(line):
            out.append(line)
            size += len(line) + 1
            continue
        break
    return "\n".join(out)[:max_chars]


def _docstring_start(stripped: str, opener: str) -> bool:
    """``r\"\"\"``, ``u'''`` ... string prefixes of a module docstring."""
    return (
        opener in ('"""', "'''")
        and len(stripped) > 3
        and stripped[0] in "rRuUbB"
        and stripped[1:].startswith(opener)
    )


def _and(exprs: Sequence[str]) -> str | None:
    if not exprs:
        return None
    if len(exprs) == 1:
        return exprs[0]
    return canonical(" AND ".join(f"({e})" if " " in e else e for e in exprs))
