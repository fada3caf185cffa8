"""The one-object summary of a session that ``status`` prints and the GUI shows."""
from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import numpy as np

from .events import SOURCES, UNSURE
from .pipeline import audit, reported_accuracy

if TYPE_CHECKING:
    from .session import Session


def audit_inputs(session: "Session") -> tuple:
    """(the latest round's estimate, the audit's (agreed, answered) tallies, the share of images a
    human labelled): what ``pipeline.reported_accuracy`` and ``audited_confidence`` weigh."""
    rounds = session.rounds
    return (rounds[-1].estimated_accuracy if rounds else None, session.answer_tallies()[1],
            len(session.human_labels()) / max(session.n_images, 1))


def session_reported_accuracy(session: "Session") -> Optional[dict]:
    """``pipeline.reported_accuracy`` of the session as it stands."""
    return reported_accuracy(*audit_inputs(session))


def session_status(session: "Session") -> dict:
    """Counts per label source, rounds, the latest estimate and stop signal, schema version."""
    table = session.export_table()
    per_source = np.bincount(table.source_code + 1, minlength=len(SOURCES) + 1)  # [0]: unlabeled
    by_source = {None: int(per_source[0]), **{name: int(per_source[code + 1]) for code, name in enumerate(SOURCES)}}
    rounds = session.store.rounds()
    estimate, audited, human_share = audit_inputs(session)
    return {
        "session": session.path, "image_root": session.root, "images": session.n_images,
        "skipped": len(session.store.skipped()), "classes": session.classes,
        "features": session.feature_info.get("name"),
        "recommended_features": session.recommended_features,
        "clusters": None if session.clustering is None else int(session.clustering.k),
        "human": by_source.get("human", 0), "propagated": by_source.get("propagated", 0),
        "predicted": by_source.get("predicted", 0),
        "unlabeled": by_source.get(None, 0),
        "unsure": int(np.count_nonzero(session.event_columns().source_code == UNSURE)),
        "rounds": len(rounds),
        "estimated_accuracy": estimate,
        "stop_suggested": rounds[-1].stop_suggested if rounds else False,
        "audit": audit(audited),  # the answers to random batches, or None
        "reported_accuracy": reported_accuracy(estimate, audited, human_share),  # estimate weighed by the audit
        "schema_version": session.store.schema_version,
    }
