"""The pull, CRM → replica: full (and weekly reconciliation) and nightly incremental."""

from crm_sync.pull.counts import MassRemovalAborted, PullCounts
from crm_sync.pull.service import Progress, pull_full, pull_incremental

pull_everything = pull_full  # the name the demo and the first tests use

__all__ = ["MassRemovalAborted", "Progress", "PullCounts", "pull_everything", "pull_full", "pull_incremental"]
