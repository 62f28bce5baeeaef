"""Code file classification: language from the file name, license files, and the reject checks
(binary, minified, vendored, generated). Thresholds come from :class:`curation.io.options.ReaderOptions`.

Binary detection follows git (a NUL byte in the first 8000 bytes, ``buffer_is_binary`` in git's
``xdiff-interface.c``) plus "not valid UTF-8". The vendored/generated lists follow GitHub linguist
(``vendor.yml``, ``generated.rb``); the minified rule is The Stack / StarCoder's line-length filter.
"""

from __future__ import annotations

import posixpath
import re

from curation.io.options import ReaderOptions

LICENSE_LANGUAGE = "license-text"

# Extension -> language (names as in GitHub linguist).
_EXT: dict[str, str] = {
    ".py": "Python", ".pyi": "Python", ".pyx": "Cython", ".ipynb": "Jupyter Notebook",
    ".js": "JavaScript", ".mjs": "JavaScript", ".cjs": "JavaScript", ".jsx": "JavaScript",
    ".ts": "TypeScript", ".tsx": "TypeScript", ".go": "Go", ".rs": "Rust", ".java": "Java",
    ".kt": "Kotlin", ".kts": "Kotlin", ".scala": "Scala", ".c": "C", ".h": "C", ".cc": "C++",
    ".cpp": "C++", ".cxx": "C++", ".hpp": "C++", ".hh": "C++", ".cs": "C#", ".m": "Objective-C",
    ".swift": "Swift", ".rb": "Ruby", ".php": "PHP", ".pl": "Perl", ".pm": "Perl", ".lua": "Lua",
    ".r": "R", ".jl": "Julia", ".hs": "Haskell", ".ml": "OCaml", ".ex": "Elixir", ".exs": "Elixir",
    ".erl": "Erlang", ".clj": "Clojure", ".dart": "Dart", ".sh": "Shell", ".bash": "Shell",
    ".zsh": "Shell", ".ps1": "PowerShell", ".sql": "SQL", ".html": "HTML", ".htm": "HTML",
    ".css": "CSS", ".scss": "SCSS", ".less": "Less", ".vue": "Vue", ".svelte": "Svelte",
    ".json": "JSON", ".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".xml": "XML", ".ini": "INI",
    ".cfg": "INI", ".md": "Markdown", ".rst": "reStructuredText", ".tex": "TeX", ".proto": "Protocol Buffer",
    ".cmake": "CMake", ".mk": "Makefile", ".gradle": "Gradle", ".tf": "HCL", ".zig": "Zig", ".nim": "Nim",
    ".f90": "Fortran", ".asm": "Assembly", ".s": "Assembly", ".vim": "Vim Script", ".el": "Emacs Lisp",
    ".txt": "Text",
}  # fmt: skip
_NAMES: dict[str, str] = {
    "makefile": "Makefile", "gnumakefile": "Makefile", "dockerfile": "Dockerfile",
    "cmakelists.txt": "CMake", "rakefile": "Ruby", "gemfile": "Ruby", "jenkinsfile": "Groovy",
}  # fmt: skip
_LICENSE_NAME = re.compile(
    r"(?i)^(?:un)?licen[cs]e(?:[._-].*)?$|^copying(?:[._-].*)?$|^notice(?:\.\w+)?$|^copyright(?:\.\w+)?$"
)
_BINARY_SNIFF = 8000
_HEAD_MAX_CHARS = 8000
# Line starts of comments (C-family, shell/Python, SQL/Lua/Haskell, Lisp, HTML/XML, docstrings).
_COMMENT_PREFIXES = ("//", "#", "/*", "*", "--", ";", "<!--", "%", '"""', "{-", "(*")


def language_of(path: str) -> str | None:
    """Programming language from the file name (``None`` when unknown)."""
    name = posixpath.basename(path)
    if is_license_file(name):
        return LICENSE_LANGUAGE
    low = name.lower()
    if low in _NAMES:
        return _NAMES[low]
    return _EXT.get(posixpath.splitext(low)[1])


def is_license_file(path: str) -> bool:
    """LICENSE / COPYING / NOTICE / COPYRIGHT files (kept as documents for repo-level license tagging)."""
    return bool(_LICENSE_NAME.match(posixpath.basename(path)))


def path_reject(path: str, opts: ReaderOptions) -> tuple[str, str] | None:
    """(reason, detail) for files rejected by their path alone: vendored folders, lock files."""
    parts = path.split("/")
    vendored = set(opts.vendored_dirs)
    for d in parts[:-1]:
        if d in vendored:
            return "vendored", f"inside vendored folder {d}/"
    if parts[-1] in opts.generated_files:
        return "generated", f"{parts[-1]} is a generated lock file"
    return None


def is_binary(data: bytes) -> bool:
    return b"\x00" in data[:_BINARY_SNIFF]


def content_reject(path: str, text: str, opts: ReaderOptions) -> tuple[str, str] | None:
    """(reason, detail) for minified or generated content; license files are never rejected here."""
    if is_license_file(path):
        return None
    name = posixpath.basename(path).lower()
    if ".min." in name:
        return "minified", "minified file name"
    n_lines = text.count("\n") + 1
    mean = len(text) / n_lines
    if mean > opts.minified_mean_line:
        longest = max(map(len, text.split("\n")))
        if longest > opts.minified_max_line:
            detail = f"mean line length {mean:.0f} > {opts.minified_mean_line}, longest line {longest}"
            return "minified", detail
    for line in text[:_HEAD_MAX_CHARS].split("\n", opts.generated_head_lines)[: opts.generated_head_lines]:
        s = line.lstrip()
        if not s.startswith(_COMMENT_PREFIXES):
            continue
        low = s.lower()
        for marker in opts.generated_markers:
            if marker in low:
                return "generated", f"marker {marker!r} in a head comment"
    return None
