"""Rules are data: load YAML files into frozen dataclasses, validating every key at pipeline build time.

A bad rules or config file fails fast with :class:`ConfigError`, whose message names the file, the key
path and the allowed values or the expected type. Stages declare their rules as frozen dataclasses whose
field types drive validation: ``int``, ``float``, ``bool``, ``str``, ``Literal[...]``, ``X | None``,
``tuple[X, ...]``, ``frozenset[X]``, ``dict[str, X]`` and nested dataclasses are supported.

Example::

    @dataclass(frozen=True)
    class GopherRules:
        min_words: int = 50
        max_words: int = 100_000

    rules = load_rules(Path("rules/quality/web.yaml"), GopherRules, section="gopher")
"""

from __future__ import annotations

import dataclasses
import importlib.util
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout (meaningless in a wheel install)
RULES_PACKAGE = "curation.rules_data"  # rules/ as package data (setup.py maps the top-level folder)
SAMPLE_DATA_PACKAGE = "curation.sample_data"  # data/ (sample shards, evaluation set) as package data


def package_data_dir(package: str, checkout_dir: Path) -> Path:
    """The folder of a data package (``curation.rules_data``), or ``checkout_dir`` when it is not installed.

    A wheel install has the folder inside the installed package, found through the import system (the
    same lookup ``importlib.resources.files`` does; it is a plain folder because wheels install unzipped).
    An editable install or a bare checkout (``PYTHONPATH=.``) cannot import a mapped data folder that has
    no ``__init__.py``, and there the checkout's own folder is the right one.
    """
    try:
        spec = importlib.util.find_spec(package)
    except ModuleNotFoundError:
        spec = None
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    for loc in locations:
        if Path(loc).is_dir():
            return Path(loc)
    return checkout_dir


RULES_DIR = package_data_dir(RULES_PACKAGE, REPO_ROOT / "rules")
SAMPLE_DATA_DIR = package_data_dir(SAMPLE_DATA_PACKAGE, REPO_ROOT / "data")


class ConfigError(ValueError):
    """A configuration or rules file is invalid. The message names file, key and allowed values."""

    def __init__(self, file: str | Path | None, key: str | None, message: str) -> None:
        self.file = str(file) if file is not None else None
        self.key = key
        where = self.file or "<config>"
        if key:
            where += f": key '{key}'"
        super().__init__(f"{where}: {message}")


# libyaml's C parser when PyYAML was built with it (the PyPI wheels are): the same safe subset and the
# same documents (checked on every rules file), ~9x less CPU -- rules load in every run's planning.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file, turning a missing file or a syntax error into a :class:`ConfigError`."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(p, None, "file not found")
    try:
        with p.open("r", encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(p, None, f"invalid YAML: {exc}") from exc
    return {} if data is None else data


def resolve_rules_path(name: str | Path, base_dir: Path | None = None) -> Path:
    """Resolve a rules file name: absolute; beside the config (``base_dir``); or in the packaged rules.

    The packaged rules are :data:`RULES_DIR` (the installed ``curation.rules_data``, or the checkout's
    ``rules/``), so a config anywhere on disk can name ``quality/quality.yaml`` and get the defaults.
    ``rules/<name>`` (as written from a checkout's root) resolves to the packaged copy too.
    """
    p = Path(name)
    if p.is_absolute():
        return p
    candidates = []
    if base_dir is not None:
        candidates.append(base_dir / p)
    candidates.append(RULES_DIR / p)
    if p.parts[:1] == ("rules",):
        candidates.append(RULES_DIR.joinpath(*p.parts[1:]))
    for c in candidates:
        if c.exists():
            return c
    return candidates[0]


def load_rules(path: str | Path, cls: type[T], section: str | None = None) -> T:
    """Load ``path`` (optionally one top-level ``section`` of it) into the frozen dataclass ``cls``."""
    data = load_yaml(path)
    if section is not None:
        if not isinstance(data, Mapping) or section not in data:
            raise ConfigError(path, section, "missing section")
        data = data[section]
    return from_mapping(cls, data, file=path, key=section or "")


def from_mapping(cls: type[T], data: Any, *, file: str | Path | None, key: str = "") -> T:
    """Build dataclass ``cls`` from a mapping, rejecting unknown keys and values of the wrong type."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(file, key or None, f"expected a mapping, got {type(data).__name__}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(map(str, data)) - set(fields))
    if unknown:
        bad = _join(key, unknown[0])
        raise ConfigError(file, bad, f"unknown key; allowed keys: {', '.join(sorted(fields))}")
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        sub = _join(key, name)
        if name in data:
            kwargs[name] = coerce(hints[name], data[name], file=file, key=sub)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(file, sub, "required key is missing")
    try:
        obj = cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise ConfigError(file, key or None, str(exc)) from exc
    return obj


def coerce(tp: Any, value: Any, *, file: str | Path | None, key: str) -> Any:
    """Check ``value`` against the type annotation ``tp`` and convert containers to frozen forms."""
    origin = get_origin(tp)
    args = get_args(tp)
    if tp is Any:
        return value
    if origin is Literal:
        if value not in args:
            allowed = ", ".join(repr(a) for a in args)
            raise ConfigError(file, key, f"invalid value {value!r}; allowed values: {allowed}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return coerce(a, value, file=file, key=key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(file, key, f"value {value!r} does not match {_type_name(tp)}")
    if dataclasses.is_dataclass(tp):
        return from_mapping(tp, value, file=file, key=key)
    if origin in (tuple, frozenset, list, set):
        if not isinstance(value, list | tuple):
            raise ConfigError(file, key, f"expected a list, got {type(value).__name__}")
        item_tp = args[0] if args else Any
        items = [coerce(item_tp, v, file=file, key=f"{key}[{i}]") for i, v in enumerate(value)]
        return frozenset(items) if origin in (frozenset, set) else tuple(items)
    if origin in (dict, Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(file, key, f"expected a mapping, got {type(value).__name__}")
        ktp, vtp = args if args else (Any, Any)
        return {
            coerce(ktp, k, file=file, key=key): coerce(vtp, v, file=file, key=_join(key, str(k)))
            for k, v in value.items()
        }
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(file, key, f"expected true/false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(file, key, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(file, key, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(file, key, f"expected a string, got {value!r}")
        return value
    return value


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def check_range(file: str | Path | None, key: str, value: float, lo: float | None, hi: float | None) -> None:
    """Raise a :class:`ConfigError` unless ``lo <= value <= hi`` (either bound may be ``None``)."""
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ConfigError(file, key, f"value {value!r} out of range [{lo}, {hi}]")
