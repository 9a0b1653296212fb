"""What the records mean and who must act: assessments, review flags, sweep runs, notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from infusions.models import Infusion
from ivigtrack import dates
from ivigtrack.models_base import ClinicalModel, choices_constraint
from patients.models import Patient, SymptomReport


class Tier(models.TextChoices):
    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


TIER_RANK = {"low": 0, "moderate": 1, "high": 2}


class RiskAssessment(ClinicalModel):
    """One ITRS result. A new row only when the result changes; the latest is the current risk."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="assessments")
    assessed_at = models.DateTimeField()
    as_of = models.DateTimeField()
    ruleset = models.CharField(max_length=16)
    score = models.PositiveSmallIntegerField()
    tier = models.CharField(max_length=10, choices=Tier.choices)
    provisional = models.BooleanField(default=False)
    missing = models.JSONField(default=list)
    components = models.JSONField(default=dict)
    factors = models.JSONField(default=list)
    overrides = models.JSONField(default=list)
    recommendations = models.JSONField(default=list)
    notes = models.JSONField(default=list)
    secondary = models.JSONField(default=dict)
    dic_score = models.SmallIntegerField(null=True, blank=True)
    inputs = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64, help_text="Hash of the result; equal hash = unchanged.")
    tier_rose_at = models.DateTimeField(
        null=True, blank=True, help_text="When the current tier was last reached from a lower one."
    )
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["-assessed_at", "-id"]
        indexes = [models.Index(fields=["patient", "-assessed_at"], name="assessment_patient_time")]
        constraints = [
            models.UniqueConstraint(fields=["patient"], condition=Q(is_current=True), name="one_current_assessment"),
            choices_constraint("tier", Tier, name="assessment_tier_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.ruleset} {self.score} ({self.tier}{', provisional' if self.provisional else ''})"


class InfusionRisk(models.Model):
    """The assessment as of an administered infusion's start: the risk at every infusion."""

    infusion = models.OneToOneField(Infusion, on_delete=models.CASCADE, related_name="risk")
    as_of = models.DateTimeField()
    ruleset = models.CharField(max_length=16)
    score = models.PositiveSmallIntegerField()
    tier = models.CharField(max_length=10, choices=Tier.choices)
    provisional = models.BooleanField(default=False)
    factors = models.JSONField(default=list)


class FlagKind(models.TextChoices):
    SYMPTOM_ALERT = "symptom_alert", "Symptom alert"
    HEMATOLOGY_REVIEW = "hematology_review", "Haematology review"
    CLOTTING_STUDIES = "clotting_studies", "Clotting studies"
    VISCOSITY_CHECK = "viscosity_check", "Viscosity check"
    PRE_IVIG_LABS = "pre_ivig_labs", "Pre-IVIG labs"
    RENAL_CHECK = "renal_check", "Renal check"
    DATA_QUALITY = "data_quality", "Data quality"
    PATIENT_CHECKIN = "patient_checkin", "Patient check-in"
    INFUSION_PRECAUTION = "infusion_precaution", "Infusion precaution"


class Priority(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    URGENT = "urgent", "Urgent"
    ROUTINE = "routine", "Routine"


PRIORITY_RANK = {"emergency": 0, "urgent": 1, "routine": 2}


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    SNOOZED = "snoozed", "Snoozed"
    RESOLVED = "resolved", "Resolved"


class Resolution(models.TextChoices):
    COMPLETED = "completed", "Completed"
    NOT_INDICATED = "not_indicated", "Not indicated"
    DECLINED = "declined", "Declined"
    SUPERSEDED = "superseded", "Superseded"
    # Closed by the sweep because its rule stopped holding without what it asked for (DESIGN §6a):
    # never a completed review or panel.
    LAPSED = "lapsed", "Lapsed"


#: what a clinician may choose when resolving (lapsed is the sweep's word only).
STAFF_RESOLUTIONS = [(value, label) for value, label in Resolution.choices if value != Resolution.LAPSED]
#: resolutions that keep the same rule quiet for a while (`ReviewFlag.suppressed_until`).
DECISIONS = ("not_indicated", "declined")


UNRESOLVED = ("open", "acknowledged", "snoozed")


class ReviewFlag(ClinicalModel):
    Kind = FlagKind
    Priority = Priority
    Status = FlagStatus
    Resolution = Resolution

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="flags")
    # The patient's home site, copied so worklists and counts of one site read one index
    # (kept in step by risk.services.flags and patients.services.patient_move_site).
    site = models.ForeignKey("accounts.Site", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=FlagKind.choices)
    rule = models.CharField(max_length=20)
    priority = models.CharField(max_length=10, choices=Priority.choices)
    priority_rank = models.PositiveSmallIntegerField(help_text="0 emergency, 1 urgent, 2 routine (for ordering)")
    status = models.CharField(max_length=12, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    reason = models.TextField()
    evidence = models.JSONField(default=dict)
    raised_at = models.DateTimeField()
    due_at = models.DateTimeField()
    escalated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    snooze_reason = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=14, choices=Resolution.choices, blank=True)
    note = models.TextField(blank=True)
    trigger = models.TextField(blank=True, help_text="The facts behind the flag (itrs.review FlagSpec.trigger).")
    suppressed_until = models.DateTimeField(
        null=True, blank=True, help_text="Not indicated / declined: the sweep keeps this rule quiet until then."
    )
    # Outbox marker for notifications: set when the e-mail for this priority went out.
    notified_priority = models.CharField(max_length=10, blank=True)
    # symptom_alert only: every report that raised or joined the flag (risk.services.flags).
    reports = models.ManyToManyField(SymptomReport, through="FlagReport", related_name="+", blank=True)

    class Meta:
        ordering = ["priority_rank", "due_at", "id"]
        indexes = [
            # The worklist's page (ORDER BY priority_rank, due_at, id LIMIT 50): with the id the
            # index gives the exact order, so a page reads 50 entries however many flags share a
            # due time (a sweep raises thousands with the same one).
            models.Index(
                fields=["priority_rank", "due_at", "id"], condition=Q(status__in=UNRESOLVED), name="flag_worklist"
            ),
            # The worklist's counts (COUNT(*) and per priority) as index-only scans.
            models.Index(fields=["priority", "id"], condition=Q(status__in=UNRESOLVED), name="flag_open_priority"),
            models.Index(fields=["patient", "kind", "-resolved_at"], name="flag_patient_kind"),
            # A site's worklist page and counts (staff see their sites' flags only).
            models.Index(
                fields=["site", "priority_rank", "due_at", "id"],
                condition=Q(status__in=UNRESOLVED),
                name="flag_site_worklist",
            ),
            models.Index(
                fields=["site", "priority", "id"], condition=Q(status__in=UNRESOLVED), name="flag_site_open_priority"
            ),
            # A site's worklist total: distinct patients with open flags, read in patient order up
            # to the cap (without it, 20,000 flags of the patient index filtered by site: 18 ms).
            models.Index(fields=["site", "patient"], condition=Q(status__in=UNRESOLVED), name="flag_site_open_patient"),
            # Alert governance's median time to acknowledge (risk/stats.py) reads only the
            # acknowledged flags of the period: without it, a second pass over every flag.
            models.Index(
                fields=["raised_at", "rule"], condition=Q(acknowledged_at__isnull=False), name="flag_acknowledged"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "kind"], condition=Q(status__in=UNRESOLVED), name="one_unresolved_flag_per_kind"
            ),
            choices_constraint("kind", FlagKind, name="flag_kind_valid"),
            choices_constraint("priority", Priority, name="flag_priority_valid"),
            choices_constraint("status", FlagStatus, name="flag_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="resolved") | (Q(resolved_at__isnull=False) & ~Q(resolution="")),
                name="flag_resolved_has_resolution",
            ),
            models.CheckConstraint(
                condition=~Q(status="snoozed") | Q(snoozed_until__isnull=False), name="flag_snoozed_has_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.rule} ({self.priority}, {self.status})"


class FlagReport(models.Model):
    """A symptom report on the symptom_alert flag it raised or joined: one flag per report, any
    number of reports per flag. Kept here, not on the report: imports point from risk to patients."""

    flag = models.ForeignKey(ReviewFlag, on_delete=models.CASCADE, related_name="report_links")
    report = models.OneToOneField(SymptomReport, on_delete=models.CASCADE, related_name="alert_link")

    def __str__(self) -> str:
        return f"report {self.report_id} on flag {self.flag_id}"

    @property
    def clinic_status(self) -> str:
        """What the patient may be told about this report (`CLINIC_STATUSES`): "seen" once a person
        acknowledged or resolved the flag after the report reached the clinic, else "alerted"."""
        arrived = self.report.created_at
        flag = self.flag
        if any(at is not None and at >= arrived for at in (flag.acknowledged_at, flag.resolved_at)):
            return "seen"
        return "alerted"

    def patient_words(self) -> str:
        """What the portal tells the patient the clinic did with this report, from the same facts
        as `clinic_status`: times and the kind of outcome, never the staff's notes or reasons."""
        flag = self.flag
        if self.clinic_status != "seen":
            return "Your clinic has been alerted and has not yet marked it as seen."
        if flag.status == "resolved" and flag.resolved_at is not None:
            outcome = PATIENT_RESOLUTION_WORDS.get(flag.resolution, "closed")
            return f"Resolved by your clinic on {_on_at(flag.resolved_at)}: {outcome}."
        seen_at = flag.acknowledged_at or flag.resolved_at
        return f"Seen by your clinic on {_on_at(seen_at)}."


def _on_at(moment) -> str:
    """``01/12/2026 at 15:38``: the day in the site's format (``ivigtrack.dates``), local time."""
    local = timezone.localtime(moment)
    return f"{dates.format_date(local)} at {local:%H:%M}"


#: How a resolution reads to a patient (no staff note is ever shown).
PATIENT_RESOLUTION_WORDS = {
    "completed": "the clinic has dealt with it",
    "not_indicated": "the clinic reviewed it and no further action was needed",
    "declined": "the clinic reviewed it",
    "superseded": "it was followed up under a newer alert",
    "lapsed": "it was closed",
}


#: symptom-reports/ `clinic_status`: what the clinic has done with a report, in words a patient reads.
CLINIC_STATUSES = [
    ("not_alerted", "Not alerted: a routine report, reviewed at the next contact"),
    ("alerted", "Alerted: the report is on an open alert the clinic has not acknowledged since it arrived"),
    ("seen", "Seen: a clinician or nurse acknowledged or closed the alert after this report arrived"),
]


class SweepRun(ClinicalModel):
    """One sweep. Its counters are the sum of its chunks' (SweepChunk), rewritten in the
    transaction of each chunk that finishes, so a redelivered chunk never counts twice."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        STALE = "stale", "Stale"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(max_length=20, default="beat")  # beat | command | manual | api
    full = models.BooleanField(default=True)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)  # done or failed
    chunks_failed = models.PositiveIntegerField(default=0)
    patients = models.PositiveIntegerField(default=0)
    assessments_changed = models.PositiveIntegerField(default=0)
    flags_raised = models.PositiveIntegerField(default=0)
    flags_escalated = models.PositiveIntegerField(default=0)
    flags_resolved = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error_detail = models.JSONField(default=list)
    failure = models.TextField(blank=True)  # why the run itself failed (run_review_sweep died, ...)
    stale_at = models.DateTimeField(null=True, blank=True)
    requeued = models.PositiveIntegerField(default=0)  # chunks the watchdog sent again

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            choices_constraint("status", ["running", "finished", "failed", "stale"], name="sweeprun_status_valid"),
        ]

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class SweepChunk(models.Model):
    """The ledger of one chunk of a sweep: which patients, whether it is done, what it counted.

    A chunk writes its results and marks this row done in one transaction (holding this row's
    lock), so a redelivered message for a finished chunk finds it done and changes nothing."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(SweepRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    patient_ids = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField()  # last movement (queued, started, retried, finished)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    patients = models.PositiveIntegerField(default=0)
    assessments_changed = models.PositiveIntegerField(default=0)
    flags_raised = models.PositiveIntegerField(default=0)
    flags_escalated = models.PositiveIntegerField(default=0)
    flags_resolved = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error_detail = models.JSONField(default=list)

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="sweepchunk_run_index"),
            choices_constraint("status", ["pending", "running", "done", "failed"], name="sweepchunk_status_valid"),
        ]
        indexes = [
            models.Index(
                fields=["status", "updated_at"],
                name="sweepchunk_unfinished",
                condition=Q(status__in=["pending", "running"]),
            ),
        ]


class Notification(models.Model):
    """What was sent to staff about a flag (or a digest), and whether it failed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    created_at = models.DateTimeField(auto_now_add=True)
    flag = models.ForeignKey(ReviewFlag, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    # The symptom report this notice is about (symptom alerts notify once per report).
    report = models.ForeignKey(SymptomReport, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, default="immediate")  # immediate | digest
    priority = models.CharField(max_length=10, blank=True)
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A rule flag: one e-mail when raised or escalated to each priority.
            models.UniqueConstraint(
                fields=["flag", "priority"],
                condition=Q(kind="immediate", report__isnull=True),
                name="one_immediate_notice_per_flag_priority",
            ),
            # A symptom alert: one e-mail per report that needs one (risk.services.flags).
            models.UniqueConstraint(
                fields=["flag", "report"],
                condition=Q(kind="immediate", report__isnull=False),
                name="one_immediate_notice_per_report",
            ),
        ]


class AnticoagulationPlan(models.TextChoices):
    NONE = "none", "No anticoagulation"
    PERI_INFUSION_PROPHYLAXIS = "peri_infusion_prophylaxis", "Prophylaxis around infusions"
    TREATMENT_3_MONTHS = "treatment_3_months", "Treatment for 3 months, then review"
    EXTENDED = "extended", "Extended, reviewed yearly"
    INDEFINITE = "indefinite", "Indefinite, reviewed yearly"


class IvigPlan(models.TextChoices):
    CONTINUE = "continue", "Continue as planned"
    SLOW_RATE = "slow_rate", "Continue at a slower rate"
    CHANGE_PRODUCT = "change_product", "Change product"
    REDUCE_DOSE = "reduce_dose", "Reduce the dose"
    SWITCH_TO_SUBCUTANEOUS = "switch_to_subcutaneous", "Switch to subcutaneous immunoglobulin"
    STOP = "stop", "Stop IVIG"


class ThrombophiliaTesting(models.TextChoices):
    NOT_INDICATED = "not_indicated", "Not indicated"
    REQUESTED = "requested", "Requested"
    DEFERRED_AFTER_IVIG = "deferred_after_ivig", "Deferred until after the acute phase and the first 3 months"


class HaematologyReview(ClinicalModel):
    """What a haematologist decided (risk/README.md, haematology reviews): the record the
    haematology rules count. Resolving a hematology_review flag as completed needs one."""

    AnticoagulationPlan = AnticoagulationPlan
    IvigPlan = IvigPlan
    ThrombophiliaTesting = ThrombophiliaTesting

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="haematology_reviews")
    reviewed_on = models.DateField()
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The haematologist, when they use ivigtrack.",
    )
    reviewer_name = models.CharField(
        max_length=200, blank=True, help_text="An outside haematologist, by name (when not a user)."
    )
    anticoagulation_plan = models.CharField(max_length=28, choices=AnticoagulationPlan.choices)
    ivig_plan = models.CharField(max_length=24, choices=IvigPlan.choices)
    thrombophilia_testing = models.CharField(max_length=20, choices=ThrombophiliaTesting.choices)
    next_review_on = models.DateField(
        null=True, blank=True, help_text="When the next review is due; overrides the plan's own interval."
    )
    note = models.TextField(blank=True)
    flag = models.ForeignKey(
        ReviewFlag, null=True, blank=True, on_delete=models.PROTECT, related_name="haematology_reviews"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        indexes = [models.Index(fields=["patient", "reviewed_on"], name="haemreview_patient_date")]
        constraints = [
            choices_constraint("anticoagulation_plan", AnticoagulationPlan, name="haemreview_anticoag_valid"),
            choices_constraint("ivig_plan", IvigPlan, name="haemreview_ivig_valid"),
            choices_constraint("thrombophilia_testing", ThrombophiliaTesting, name="haemreview_thrombophilia_valid"),
            models.CheckConstraint(
                condition=Q(reviewer__isnull=False) | ~Q(reviewer_name=""),
                name="haemreview_has_reviewer",
                violation_error_message="Name the reviewer: a user or an outside haematologist.",
            ),
            models.CheckConstraint(
                condition=Q(next_review_on__isnull=True) | Q(next_review_on__gt=F("reviewed_on")),
                name="haemreview_next_after_review",
                violation_error_message="The next review must come after this one.",
            ),
            models.UniqueConstraint(fields=["flag"], condition=Q(flag__isnull=False), name="one_review_per_flag"),
        ]

    def __str__(self) -> str:
        return f"Haematology review {self.reviewed_on} ({self.reviewer_label})"

    @property
    def reviewer_label(self) -> str:
        if self.reviewer_id:
            user = self.reviewer
            return user.get_full_name() or user.get_username()
        return self.reviewer_name


class ReminderKind(models.TextChoices):
    NEXT_INFUSION = "next_infusion", "Next infusion in 2 days"
    LABS_DUE = "labs_due", "Blood tests due"
    CHECKIN_DUE = "checkin_due", "Check-in due"


class ReminderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class PatientReminder(models.Model):
    """An e-mail reminder to a patient who opted in (risk.reminders): one per patient, kind and
    date, whatever how often the daily job runs; every attempt is recorded here, like the staff
    notifications, and staff see them on the patient page."""

    Kind = ReminderKind
    Status = ReminderStatus

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    on = models.DateField(help_text="The day it is about: the infusion, the labs' due day, the check-in's day.")
    created_at = models.DateTimeField(auto_now_add=True)
    recipient = models.CharField(max_length=254)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "kind", "on"], name="one_reminder_per_patient_kind_day"),
            choices_constraint("kind", ReminderKind, name="reminder_kind_valid"),
            choices_constraint("status", ReminderStatus, name="reminder_status_valid"),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], condition=~Q(status="sent"), name="reminder_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.on} ({self.status})"
