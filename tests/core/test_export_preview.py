"""The preview counts what the export writes: ``ExportTable.selection`` against a plain
per-row filter written out here, and ``preview_counts`` against a count of those rows."""
from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest

from labeler.events import SOURCES
from labeler.export import ALL_SOURCES, ExportTable
from labeler.export_preview import preview_counts

ENTRIES = [("cat", "human", 1.0), ("cat", "propagated", 0.9), ("dog", "propagated", 0.6),
           ("dog", "predicted", 0.4), ('a,b "q"', "predicted", 0.95), (None, None, 0.0),
           ("dog", "human", 1.0)]
NAMES = ["dog", "cat", 'a,b "q"', "never used"]
IMAGES = [SimpleNamespace(path=f"img{i}.png", sha1=str(i)) for i in range(len(ENTRIES))]


def _table() -> ExportTable:
    labels = [e[0] for e in ENTRIES]
    sources = [e[1] for e in ENTRIES]
    n = len(ENTRIES)
    return ExportTable(label=np.array(labels, dtype=object), source=np.array(sources, dtype=object),
                       confidence=np.array([e[2] for e in ENTRIES]), cluster=np.arange(n), round=np.zeros(n, int),
                       rank=np.full(n, -1), label_code=np.array([-1 if x is None else NAMES.index(x) for x in labels]),
                       source_code=np.array([-1 if x is None else SOURCES.index(x) for x in sources]), names=NAMES)


def _kept_rows(rows, sources, min_conf):
    """The export's filter, one row at a time: the oracle for the vectorised selection."""
    wanted = ALL_SOURCES if sources is None else sources
    return [r for r in rows if r.label is not None and r.source in wanted and r.confidence >= min_conf]


@pytest.mark.parametrize("sources", [None, ["human"], ["propagated", "predicted"], []])
@pytest.mark.parametrize("min_conf", [0.0, 0.5, 0.95, 1.0])
def test_selection_and_preview_match_a_plain_row_filter(sources, min_conf):
    table = _table()
    kept = _kept_rows(table.rows(IMAGES), sources, min_conf)
    selected = np.flatnonzero(table.selection(sources, min_conf))
    assert table.rows(IMAGES, selected) == kept
    preview = preview_counts(table, sources, min_conf)
    assert preview.total == len(kept)
    assert preview.by_source == {s: sum(r.source == s for r in kept) for s in ALL_SOURCES}
    pairs = Counter((r.label, r.source) for r in kept)
    assert preview.by_class == {c: {s: pairs[(c, s)] for s in ALL_SOURCES} for c in {r.label for r in kept}}
    assert preview.unlabeled == 1
    assert preview.left_out == 6 - len(kept)
    assert preview.classes == sorted({r.label for r in kept})


def test_preview_counts_exact():
    preview = preview_counts(_table(), ["propagated", "human"], 0.7)
    assert preview.by_class == {"cat": {"human": 1, "propagated": 1, "predicted": 0},
                                "dog": {"human": 1, "propagated": 0, "predicted": 0}}
    assert preview.by_source == {"human": 2, "propagated": 1, "predicted": 0}


def test_rows_in_the_order_asked():
    table = _table()
    assert [r.path for r in table.rows(IMAGES, [4, 0])] == ["img4.png", "img0.png"]
    assert table.rows(IMAGES, [5])[0].label is None and table.rows(IMAGES, [5])[0].cluster == 5


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="guessed"):
        _table().selection(["guessed"], 0.0)
    with pytest.raises(ValueError):
        preview_counts(_table(), ["guessed"], 0.0)
