"""What a chunk did, counted by the assessment and flag services and added to its SweepRun."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ChunkOutcome:
    patients: int = 0
    assessments_changed: int = 0
    flags_raised: int = 0
    flags_escalated: int = 0
    flags_resolved: int = 0
    errors: int = 0
    error_detail: list = field(default_factory=list)
    notify: list = field(default_factory=list)  # flag ids to notify at once
    # new assessments written with their ids ({patient id: RiskAssessment}), for small chunks
    assessments: dict = field(default_factory=dict, repr=False)

    def add(self, other: ChunkOutcome) -> None:
        for name in ("patients", "assessments_changed", "flags_raised", "flags_escalated", "flags_resolved", "errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.error_detail.extend(other.error_detail)
        self.notify.extend(other.notify)
