"""The side-input Match step batches documents itself: full batches, the rest at bundle end (windowed)."""

from __future__ import annotations

from apache_beam import pvalue
from apache_beam.utils.windowed_value import WindowedValue

from curation.document import Document
from curation.stages.decontamination import transforms
from curation.stages.decontamination.decide import Evidence


def _doc(i: int) -> Document:
    return Document(id=f"d{i}", source_kind="web", source="s", text=f"text {i}")


def test_full_batches_then_the_rest_with_the_bundles_index(monkeypatch) -> None:
    sizes: list[int] = []
    seen_index: list[object] = []

    def fake(batch, index, rules):
        sizes.append(len(batch))
        seen_index.append(index)
        return [(d, [Evidence.__new__(Evidence)] if d.id == "d4" else []) for d in batch]

    monkeypatch.setattr(transforms, "score_batch_with_found", fake)
    monkeypatch.setattr(transforms, "_emit", lambda rs: (
        x for b, o, f in rs for x in ([pvalue.TaggedOutput("found", b.id)] if f else []) + [(None, o)]
    ))
    fn = transforms._IndexMatchDoFn(rules=None, batch_size=2)  # type: ignore[arg-type]
    fn.start_bundle()
    index = object()
    out = [x for i in range(5) for x in fn.process(_doc(i), index)]
    tail = list(fn.finish_bundle())
    assert sizes == [2, 2, 1] and all(ix is index for ix in seen_index)
    assert [o.id for _, o in out] == ["d0", "d1", "d2", "d3"]
    found = [x for x in tail if isinstance(x, pvalue.TaggedOutput)]
    main = [x for x in tail if isinstance(x, WindowedValue)]
    assert [f.tag for f in found] == ["found"] and isinstance(found[0].value, WindowedValue)
    assert found[0].value.value == "d4"
    assert [w.value[1].id for w in main] == ["d4"]


def test_empty_bundle_emits_nothing() -> None:
    fn = transforms._IndexMatchDoFn(rules=None, batch_size=2)  # type: ignore[arg-type]
    fn.start_bundle()
    assert list(fn.finish_bundle()) == []
