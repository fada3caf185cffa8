"""Per-cluster summaries for the cluster inspector and the labelling panel (Qt-free).

Kept out of ``session.py`` because only these two panels need it; it reads the session's
queries and its clustering only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

from .propagation import propagation_cutoff

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
    sizes = cluster_sizes(session)
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


def cluster_sizes(session: "Session") -> np.ndarray:
    """Images per cluster (empty before clustering); cheap: read from the cached member order."""
    clustering = session.clustering
    return np.zeros(0, dtype=int) if clustering is None else clustering.member_order.sizes


@dataclass(frozen=True)
class CutoffSummary:
    """What propagating one cluster at one percentile would do, for the inspector's sentence."""
    cluster: int
    size: int
    cutoff: int    # the closest ``cutoff`` members are inside it
    receive: int   # members inside that would get the representative's label
    lose: int      # members beyond that would lose the label propagated to them
    by_hand: int   # members inside labelled by hand: they keep their label
    already: int   # members inside that hold this very propagated label already
    detached: int = 0  # members inside, not labelled by hand, that the graph does not connect to the representative


def detached_members(session: "Session", cluster: int) -> np.ndarray:
    """Members of ``cluster`` in a group the kNN graph does not connect to its representative
    (``clustering.detached_groups``): propagation skips them; empty before clustering."""
    clustering = session.clustering
    if clustering is None or clustering.detached is None:
        return np.zeros(0, dtype=int)
    members = session.cluster_members(int(cluster))
    return members[clustering.detached[members]]


def cutoff_summary(session: "Session", cluster: int, percentile: float) -> CutoffSummary:
    """``Session.propagation_plan`` for one cluster, counted (one cluster's members: cheap)."""
    cluster = int(cluster)
    members = session.cluster_members(cluster)  # raises before clustering
    clustering = session.clustering
    cutoff = propagation_cutoff(clustering, cluster, percentile)
    prop, removed = session.propagation_plan(percentile, [cluster])
    human = session.human_labels()
    inside = members[:cutoff]
    by_human = np.isin(inside, np.fromiter(human, dtype=int, count=len(human)))
    by_hand = int(by_human.sum())
    apart = 0 if clustering.detached is None else int((clustering.detached[inside] & ~by_human).sum())
    # a cluster without a label plans nothing, so none of its members holds that label "already"
    named = session.cluster_labels(human).get(cluster) is not None
    return CutoffSummary(cluster=cluster, size=len(members), cutoff=cutoff,
                         receive=len(prop.idx), lose=len(removed), by_hand=by_hand,
                         already=cutoff - len(prop.idx) - by_hand - apart if named else 0, detached=apart)
