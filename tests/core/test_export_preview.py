"""preview_counts must agree with filter_rows: the preview is what the export writes."""
from __future__ import annotations

import pytest

from labeler.export import ALL_SOURCES, ExportRow, filter_rows
from labeler.export_preview import preview_counts


def _row(i, label, source, conf):
    return ExportRow(path=f"img{i}.png", label=label, source=source, confidence=conf,
                     cluster=0, round=0, rank=None, sha1=str(i))


ROWS = [
    _row(0, "cat", "human", 1.0),
    _row(1, "cat", "propagated", 0.9),
    _row(2, "dog", "propagated", 0.6),
    _row(3, "dog", "predicted", 0.4),
    _row(4, "a,b \"q\"", "predicted", 0.95),
    _row(5, None, None, 0.0),
]


@pytest.mark.parametrize("sources", [None, ["human"], ["propagated", "predicted"], []])
@pytest.mark.parametrize("min_conf", [0.0, 0.5, 0.95, 1.0])
def test_preview_matches_filter_rows(sources, min_conf):
    kept = filter_rows(ROWS, sources, min_conf)
    preview = preview_counts(ROWS, sources, min_conf)
    assert preview.total == len(kept)
    assert sum(preview.by_source.values()) == len(kept)
    assert set(preview.by_source) == set(ALL_SOURCES)
    for r in kept:
        assert preview.by_class[r.label][r.source] >= 1
    assert sum(sum(v.values()) for v in preview.by_class.values()) == len(kept)
    assert preview.unlabeled == 1
    assert preview.left_out == 5 - len(kept)
    assert preview.classes == sorted({r.label for r in kept})


def test_preview_counts_exact():
    preview = preview_counts(ROWS, ["propagated", "human"], 0.7)
    assert preview.by_class == {"cat": {"human": 1, "propagated": 1, "predicted": 0}}
    assert preview.by_source == {"human": 1, "propagated": 1, "predicted": 0}


def test_preview_rejects_unknown_source():
    with pytest.raises(ValueError):
        preview_counts(ROWS, ["guessed"], 0.0)
