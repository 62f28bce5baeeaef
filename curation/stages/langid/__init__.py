"""Language-ID stage (fastText lid.176): ``build_stage`` plus the what-if protocol.

Modules: ``rules`` (YAML dataclasses and ``decide``), ``detect`` (text selection, paragraph sampling,
model wrapper), ``stage`` (processor and ``build_stage``).
"""

from curation.stages.langid.rules import LangIdRules, decide, load_stage_rules
from curation.stages.langid.stage import LangIdProcessor, build_stage

__all__ = ["LangIdProcessor", "LangIdRules", "build_stage", "decide", "load_stage_rules"]
