"""The toxicity Score step batches documents itself: full batches, the rest at bundle end, nothing lost."""

from __future__ import annotations

from apache_beam.utils.windowed_value import WindowedValue

from curation.document import Document
from curation.stages.toxicity.transforms import _ScoreDoFn


class _StubScorer:
    def __init__(self) -> None:
        self.sizes: list[int] = []

    def score_batch(self, docs):
        self.sizes.append(len(docs))
        return list(docs), {"web": {"windows": len(docs)}}


def _doc(i: int) -> Document:
    return Document(id=f"d{i}", source_kind="web", source="s", text=f"text {i}")


def test_full_batches_then_the_rest_at_bundle_end() -> None:
    scorer = _StubScorer()
    fn = _ScoreDoFn(scorer, batch_size=2)  # type: ignore[arg-type]
    fn.start_bundle()
    out = [x for i in range(5) for x in fn.process(_doc(i))]
    tail = list(fn.finish_bundle())
    assert scorer.sizes == [2, 2, 1]
    assert [d.id for d in out] == ["d0", "d1", "d2", "d3"]
    docs = [x.value for x in tail if isinstance(x, WindowedValue)]
    assert [d.id for d in docs] == ["d4"]
    bias = [x for x in tail if not isinstance(x, WindowedValue)]
    assert bias and bias[0].value.value == {"web": {"windows": 5}}


def test_empty_bundle_emits_nothing() -> None:
    fn = _ScoreDoFn(_StubScorer(), batch_size=4)  # type: ignore[arg-type]
    fn.start_bundle()
    assert list(fn.finish_bundle()) == []
