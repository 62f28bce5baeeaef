"""Small document builders shared by the quality/langid tests."""

from __future__ import annotations

from pathlib import Path

from curation.config import PipelineConfig, SourceSpec
from curation.document import Document

PARAGRAPHS = (
    "The committee met on Tuesday to discuss the new library budget and the plans for the reading room. "
    "Several members said that the old building needs repairs before the winter, and the chair agreed to "
    "ask the city for help with the cost of the roof.",
    "A local teacher described how her students use the library after school to finish their homework. "
    "Many of them borrow books that they cannot find at home, and some come with younger brothers and "
    "sisters who read picture books in the corner.",
    "Volunteers have offered to repaint the shelves and to sort the donated magazines by year. The "
    "librarian thanked them and explained that the catalogue will move to a new computer system in May, "
    "which should make searching easier for everyone.",
    "The meeting ended with a vote to open the reading room on Saturday mornings during the spring. "
    "Residents who want to help can leave their names at the front desk or write to the secretary of the "
    "committee before the end of the month.",
)


def doc(text: str, kind: str = "web", **kw: object) -> Document:
    return Document(id="d", source_kind=kind, source="test", text=text, **kw)  # type: ignore[arg-type]


def prose(paragraphs: int = 3) -> str:
    """Up to four distinct paragraphs of clean English prose."""
    return "\n\n".join(PARAGRAPHS[:paragraphs])


def config_in(folder: Path, tokenizer: str = "whitespace") -> PipelineConfig:
    """A pipeline config living in ``folder`` (rules files beside it) whose models folder is ``folder``."""
    return PipelineConfig(
        sources=(SourceSpec(kind="web", paths=("x",)),),
        models_dir=str(folder),
        tokenizer=tokenizer,
        path=str(folder / "pipeline.yaml"),
    )
