"""Whether an e-mail candidate's domain ends in a public suffix: tldextract's answer without importing it.

The e-mail recognizer keeps a match only when ``tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None,
fallback_to_snapshot=True)(match).fqdn`` is not empty (a registrable domain under a public suffix of the
Public Suffix List snapshot bundled in the tldextract wheel, private domains excluded). Importing
tldextract pulls in ``requests`` and building its two suffix tries cost ~0.1 CPU-s per worker, a tenth
of the whole PII stage on the dev corpus (issue 21). :class:`PublicSuffixes` reads the same bundled
snapshot with the same parsing rule and repeats tldextract 5.x's lookup (``lenient_netloc``,
``suffix_index`` with wildcards and exceptions, punycode labels, the ``fqdn`` rule) on one trie of the
public suffixes; ``tests/pii`` checks it against tldextract itself.
"""

from __future__ import annotations

import importlib.util
import re
from ipaddress import AddressValueError, IPv6Address
from pathlib import Path
from urllib.parse import scheme_chars

# tldextract.suffix_list: the suffix pattern and the line that starts the private domains
_SUFFIX_RE = re.compile(r"^(?P<suffix>[.*!]*\w[\S]*)", re.UNICODE | re.MULTILINE)
_PRIVATE_SEPARATOR = "// ===BEGIN PRIVATE DOMAINS==="
_SCHEME_CHARS = frozenset(scheme_chars)
_Node = dict[str, tuple["_Node", bool]]  # label -> (children, a suffix ends here)


def snapshot_path() -> Path:
    """The Public Suffix List snapshot shipped in the tldextract wheel (found without importing it)."""
    spec = importlib.util.find_spec("tldextract")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("tldextract (its bundled public suffix list) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / ".tld_set_snapshot"


def _schemeless_url(url: str) -> str:
    """tldextract.remote._schemeless_url."""
    double_slashes_start = url.find("//")
    if double_slashes_start == 0:
        return url[2:]
    if (double_slashes_start < 2 or url[double_slashes_start - 1] != ":"
            or set(url[: double_slashes_start - 1]) - _SCHEME_CHARS):
        return url
    return url[double_slashes_start + 2 :]


def lenient_netloc(url: str) -> str:
    """tldextract.remote.lenient_netloc: the host part of a URL-like string, case kept."""
    authority = _schemeless_url(url).partition("/")[0].partition("?")[0].partition("#")[0]
    after_userinfo = authority.rpartition("@")[-1]
    if after_userinfo and after_userinfo[0] == "[":
        maybe_ipv6 = after_userinfo.partition("]")
        if maybe_ipv6[1] == "]":
            return f"{maybe_ipv6[0]}]"
    hostname = after_userinfo.partition(":")[0].strip()
    return hostname.rstrip(".\u3002\uff0e\uff61")


def _decode_label(label: str) -> str:
    lowered = label.lower()
    if lowered.startswith("xn--"):
        import idna  # tldextract's own dependency; only for punycode labels

        try:
            return idna.decode(lowered)
        except (UnicodeError, IndexError):
            pass
    return lowered


def _looks_like_ipv6(value: str) -> bool:
    try:
        IPv6Address(value)
    except AddressValueError:
        return False
    return True


class PublicSuffixes:
    """The public (ICANN) suffixes of a Public Suffix List text, as a trie of reversed labels."""

    def __init__(self, text: str) -> None:
        public_text = text.partition(_PRIVATE_SEPARATOR)[0]
        self.root: _Node = {}
        for m in _SUFFIX_RE.finditer(public_text):
            node = self.root
            labels = m.group("suffix").split(".")
            for i, label in enumerate(reversed(labels)):
                last = i == len(labels) - 1
                child = node.get(label)
                if child is None:
                    child = node[label] = ({}, last)
                elif last and not child[1]:
                    child = node[label] = (child[0], True)
                node = child[0]

    @classmethod
    def bundled(cls) -> PublicSuffixes:
        return cls(snapshot_path().read_text(encoding="utf-8"))

    def public_suffix_index(self, labels: list[str]) -> int | None:
        """tldextract's ``suffix_index`` (public suffixes only): index of the first suffix label or None."""
        node = self.root
        suffix_idx = label_idx = len(labels)
        for label in reversed(labels):
            decoded = _decode_label(label)
            child = node.get(decoded)
            if child is not None:
                label_idx -= 1
                node, end = child
                if end:
                    suffix_idx = label_idx
                continue
            if "*" in node:
                return label_idx if "!" + decoded in node else label_idx - 1
            break
        return None if suffix_idx == len(labels) else suffix_idx

    def has_registered_domain(self, url: str) -> bool:
        """``bool(TLDExtract(...)(url).fqdn)``: a non-empty domain label before a public suffix."""
        netloc = lenient_netloc(url).replace("\u3002", ".").replace("\uff0e", ".").replace("\uff61", ".")
        if len(netloc) >= 4 and netloc[0] == "[" and netloc[-1] == "]" and _looks_like_ipv6(netloc[1:-1]):
            return False
        labels = netloc.split(".")
        idx = self.public_suffix_index(labels)
        if idx is None:
            return False  # no suffix (an IPv4 address is no suffix either)
        suffix = ".".join(labels[idx:])
        domain = labels[idx - 1] if idx > 0 else ""
        return bool(suffix) and bool(domain)
