"""Toxicity stage: score windows with a local backend, drop / remove spans / tag, and measure bias.

Modules: ``config`` (rules dataclasses), ``windows`` (line / sentence / code-comment windows, span
removal), ``terms`` (whole-word list matching), ``backends`` (embedded alt-profanity-check + lexicon,
detoxify), ``checkpoint`` (detoxify files, offline preparation, loading), ``scoring`` (signals),
``decide`` (rules, what-if), ``bias`` (identity terms, representation and co-occurrence statistics),
``termscan`` (the probe's whole-document identity-term counts), ``wordsplit`` (numpy word split),
``literals`` (Hyperscan batch pre-checks: lexicon stems, digits/symbols next to letters),
``transforms`` (Beam shells), ``cli`` (``curate toxicity ...``). See docs/toxicity.md.

Registry hooks: :func:`build_stage`, :func:`build_probe` (identity-term representation before/after
curation) and the what-if protocol :func:`load_stage_rules` / :func:`decide`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curation.rules import ConfigError
from curation.stages.toxicity.config import ToxicityRules, load_toxicity_rules
from curation.stages.toxicity.decide import decide as _decide

if TYPE_CHECKING:
    import apache_beam as beam

    from curation.config import PipelineConfig, StageSpec

log = logging.getLogger(__name__)

STAGE = "toxicity"
OPTION_KEYS = ("batch_size", "device")


def load_stage_rules(path: str | Path) -> ToxicityRules:
    """What-if protocol: parse ``rules/toxicity.yaml``."""
    return load_toxicity_rules(path)


def decide(signals: dict[str, Any], rules: ToxicityRules, source_kind: str) -> tuple[str, ...]:
    """What-if protocol: document-level drop reasons from stored signals."""
    return _decide(signals, rules, source_kind)


def _options(spec: StageSpec, cfg: PipelineConfig) -> tuple[int, str | None]:
    unknown = sorted(set(spec.options) - set(OPTION_KEYS))
    if unknown:
        raise ConfigError(cfg.path, f"stages.{spec.name}.options.{unknown[0]}", f"allowed: {OPTION_KEYS}")
    bs = spec.options.get("batch_size", 64)
    if isinstance(bs, bool) or not isinstance(bs, int) or bs < 1:
        raise ConfigError(cfg.path, f"stages.{spec.name}.options.batch_size", "expected an integer >= 1")
    device = spec.options.get("device")
    if device not in (None, "auto", "cpu", "cuda"):
        raise ConfigError(
            cfg.path, f"stages.{spec.name}.options.device", "allowed values: 'auto', 'cpu', 'cuda'"
        )
    return bs, device


def detoxify_paths(rules: ToxicityRules, cfg: PipelineConfig) -> tuple[Path, Path]:
    """Checkpoint and HF directory of the detoxify backend (relative paths: under ``models_dir``)."""
    d = rules.detoxify

    def res(p: str) -> Path:
        q = Path(p).expanduser()
        return q if q.is_absolute() else cfg.models_path / q

    return res(d.checkpoint), res(d.hf_dir)


def build_scorer(spec: StageSpec, cfg: PipelineConfig, rules: ToxicityRules | None = None) -> Any:
    """Parse rules and lists, check detoxify's files, return an (unloaded) :class:`ToxicityScorer`."""
    from curation.stages.toxicity.bias import load_bias_lists
    from curation.stages.toxicity.checkpoint import DetoxifyFilesError, check_prepared
    from curation.stages.toxicity.scoring import ToxicityScorer

    path = cfg.rules_path(spec)
    rules = rules or load_toxicity_rules(path)
    _, device = _options(spec, cfg)
    lists = load_bias_lists(rules.bias.terms_dir, path.parent)
    paths = None
    classifier = profanity = None
    if rules.backend == "embedded":
        classifier = check_embedded(rules, cfg, path)
        profanity = profanity_file(rules, cfg)
    if rules.backend == "detoxify":
        import importlib.util

        if importlib.util.find_spec("detoxify") is None:  # torch + transformers: an optional extra
            raise ConfigError(path, "backend", "backend 'detoxify' needs the [detoxify] extra: install "
                              "torch==2.13.0 (CPU) first, then pip install 'curation[detoxify]'")
        paths = detoxify_paths(rules, cfg)
        try:
            check_prepared(*paths, rules.detoxify.variant)
        except DetoxifyFilesError as exc:
            raise ConfigError(path, "detoxify", str(exc)) from exc
    return ToxicityScorer(
        rules=rules, bias=lists, detoxify_paths=paths, device=device, classifier_path=classifier,
        profanity_path=profanity,
    )


def profanity_file(rules: ToxicityRules, cfg: PipelineConfig) -> Path | None:
    """The numpy export of alt-profanity-check under ``models_dir`` when present (built by ``curate models
    fetch``); None when the model is off or the file is absent (logged: the workers score through
    scikit-learn, the same scores at a higher set-up and scoring cost)."""
    from curation.stages.toxicity.profanity import ARTEFACT

    if not rules.embedded.use_model:
        return None
    p = cfg.models_path / ARTEFACT
    if p.is_file():
        return p
    log.warning("toxicity: %s not found: alt-profanity-check will be scored through scikit-learn (slower); "
                "build it with `curate models fetch`", p)
    return None


def classifier_file(rules: ToxicityRules, cfg: PipelineConfig) -> Path | None:
    """The configured classifier file (relative names: under ``models_dir``), or None when off."""
    model = rules.embedded.classifier.model
    if not model:
        return None
    p = Path(model).expanduser()
    return p if p.is_absolute() else cfg.models_path / p


def missing_classifier_note(p: Path) -> str:
    """What a user is told (log and ``run.json``) when the classifier file is absent."""
    return (
        f"toxicity classifier {p} not found: running the lexicon (and the English model) only; build it "
        "with `curate models fetch` (needs the labelled dev set, CURATION_EVAL_DEV) or train your own with "
        "`curate toxicity train`"
    )


def check_embedded(rules: ToxicityRules, cfg: PipelineConfig, path: Path) -> Path | None:
    """Build-time checks of the embedded backend: the lexicon package's lists and the classifier file.

    Returns the classifier file to load, or None (no classifier configured, or absent with
    ``if_missing: lexicon``: one warning is logged)."""
    from curation.stages.toxicity.lexicon import LexiconPackageError, load_package_lists

    lex = rules.embedded.lexicon
    if lex.package:
        try:
            load_package_lists(lex.package, lex.package_files)
        except LexiconPackageError as exc:
            raise ConfigError(path, "embedded.lexicon.package", str(exc)) from exc
    p = classifier_file(rules, cfg)
    if p is None or p.is_file():
        return p
    if rules.embedded.classifier.if_missing == "lexicon":
        log.warning("%s", missing_classifier_note(p))
        return None
    raise ConfigError(
        path,
        "embedded.classifier.model",
        f"model file {p} not found; build the default with `curate models fetch` (needs the labelled dev "
        "set), train your own with `curate toxicity train`, set embedded.classifier.model: null (lexicon "
        "only), or embedded.classifier.if_missing: lexicon (allowed: lexicon, error)",
    )


def stage_notes(spec: StageSpec, cfg: PipelineConfig) -> tuple[str, ...]:
    """Notes for ``run.json``: what this run's toxicity stage runs without (pure; no logging)."""
    rules = load_toxicity_rules(cfg.rules_path(spec))
    if rules.backend != "embedded":
        return ()
    p = classifier_file(rules, cfg)
    if p is not None and not p.is_file() and rules.embedded.classifier.if_missing == "lexicon":
        return (missing_classifier_note(p),)
    return ()


def build_stage(spec: StageSpec, cfg: PipelineConfig) -> beam.PTransform:
    """The toxicity stage transform (rules, lists and model files are checked here, at build time)."""
    from curation.stages.toxicity.transforms import ToxicityStage

    rules = load_toxicity_rules(cfg.rules_path(spec))
    batch_size, _ = _options(spec, cfg)
    scorer = build_scorer(spec, cfg, rules)
    stage = ToxicityStage(scorer, rules, batch_size=batch_size, tokenizer=cfg.tokenizer)
    stage.notes = stage_notes(spec, cfg)  # read into run.json (what this stage runs without)
    return stage


def build_probe(spec: StageSpec, cfg: PipelineConfig) -> beam.PTransform:
    """Identity-term representation per source kind (applied before and after curation)."""
    from curation.stages.toxicity.bias import load_bias_lists
    from curation.stages.toxicity.transforms import RepresentationProbe

    path = cfg.rules_path(spec)
    rules = load_toxicity_rules(path)
    return RepresentationProbe(load_bias_lists(rules.bias.terms_dir, path.parent))
