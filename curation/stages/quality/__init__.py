"""Quality stage: Gopher, C4, FineWeb, book, code and conversation rules plus a fastText classifier.

Module layout: ``rules`` (YAML -> frozen dataclasses), ``segment`` (script-aware words and sentences),
``lexicon`` (per-language stop words from spaCy's lists), ``view`` (the prose view of a page),
``textstats`` (shared linear-time statistics), ``prose`` / ``c4`` / ``code`` (signals of each rule set),
``classifier`` (fastText preprocessing, training, scoring), ``decide`` (the one decision function, also
used by the what-if report), ``calibrate`` (per-language thresholds from reference text), ``stage`` (the
processor and ``build_stage``) and ``cli`` (``curate quality train`` / ``calibrate``).
"""

from curation.stages.quality.decide import decide
from curation.stages.quality.rules import QualityRules, load_stage_rules
from curation.stages.quality.stage import QualityProcessor, build_stage, score_document

__all__ = ["QualityProcessor", "QualityRules", "build_stage", "decide", "load_stage_rules", "score_document"]
