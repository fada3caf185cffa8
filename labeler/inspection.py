"""Per-cluster summaries for the cluster inspector (Qt-free, one O(N) pass).

Kept out of ``session.py`` because only the inspector needs it; it reads the session's
public queries only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

if TYPE_CHECKING:
    from .session import Session


@dataclass(frozen=True)
class ClusterSummary:
    cluster: int
    size: int
    representative: int
    representative_label: Optional[str]  # the representative's human label, if any
    human: int                           # members labeled by hand
    propagated: int                      # members whose current label was propagated from this cluster


def cluster_summaries(session: "Session") -> list[ClusterSummary]:
    """One summary per cluster (empty list before clustering)."""
    clustering = session.clustering
    if clustering is None:
        return []
    k = int(clustering.k)
    sizes = np.bincount(clustering.labels, minlength=k)
    human = session.human_labels()
    human_per = np.bincount(clustering.labels[list(human)], minlength=k) if human else np.zeros(k, int)
    propagated = np.zeros(k, dtype=int)
    for event in session.propagated_labels().values():
        if event.cluster is not None and 0 <= event.cluster < k:
            propagated[event.cluster] += 1
    reps = session.representatives()
    return [ClusterSummary(cluster=c, size=int(sizes[c]), representative=int(reps[c]),
                           representative_label=human.get(int(reps[c])), human=int(human_per[c]),
                           propagated=int(propagated[c])) for c in range(k)]
