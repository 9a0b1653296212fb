"""Staff pages (namespace "staff"). Ids in URLs are public UUIDs."""

from django.urls import path

from infusions import correction_views
from infusions import views as infusion_views
from patients import edit_views as patient_edit_views
from patients import invitations as patient_invitations
from patients import views as patient_views
from risk import governance_views, haematology_views, ruleset_views, sweep_views
from risk import views as risk_views

app_name = "staff"

P = "patients/<uuid:patient_id>/"
R = "<uuid:record_id>/"

urlpatterns = [
    # worklist and flags
    path("", risk_views.worklist, name="worklist"),
    path("flags/acknowledge/", risk_views.flags_acknowledge_bulk, name="flags_acknowledge_bulk"),
    path("flags/<uuid:flag_id>/acknowledge/", risk_views.flag_acknowledge, name="flag_acknowledge"),
    path("flags/<uuid:flag_id>/snooze/", risk_views.flag_snooze, name="flag_snooze"),
    path("flags/<uuid:flag_id>/unsnooze/", risk_views.flag_unsnooze, name="flag_unsnooze"),
    path("flags/<uuid:flag_id>/resolve/", risk_views.flag_resolve, name="flag_resolve"),
    # patients
    path("patients/", risk_views.patient_list, name="patient_list"),
    path("patients/new/", patient_views.patient_create, name="patient_create"),
    path(P, risk_views.patient_detail, name="patient_detail"),
    path(P + "edit/", patient_views.patient_edit, name="patient_edit"),
    path(P + "invite/", patient_invitations.invite_view, name="patient_invite"),
    path(P + "assess/", risk_views.patient_reassess, name="patient_reassess"),
    path(P + "chart/<slug:kind>.svg", risk_views.patient_chart, name="patient_chart"),
    path(P + "summary/", haematology_views.patient_summary, name="patient_summary"),
    path(P + "haematology-reviews/new/", haematology_views.review_add, name="haematology_review_add"),
    path(P + "weights/new/", patient_views.weight_add, name="weight_add"),
    path(P + "weights/" + R + "edit/", patient_edit_views.weight_edit, name="weight_edit"),
    path(P + "conditions/new/", patient_views.condition_add, name="condition_add"),
    path(P + "conditions/" + R + "edit/", patient_views.condition_edit, name="condition_edit"),
    path(P + "lines/new/", patient_views.access_add, name="access_add"),
    path(P + "lines/" + R + "edit/", patient_views.access_edit, name="access_edit"),
    path(P + "events/new/", patient_views.event_add, name="event_add"),
    path(P + "events/" + R + "edit/", patient_views.event_edit, name="event_edit"),
    path(P + "labs/new/", patient_views.lab_add, name="lab_add"),
    path(P + "labs/panel/", patient_views.lab_panel_add, name="lab_panel_add"),
    path(P + "labs/" + R + "verify/", patient_views.lab_verify, name="lab_verify"),
    path(P + "labs/" + R + "edit/", patient_edit_views.lab_edit, name="lab_edit"),
    path(P + "symptoms/new/", patient_views.symptom_add, name="symptom_add"),
    path(P + "symptoms/" + R + "edit/", patient_edit_views.symptom_edit, name="symptom_edit"),
    path(P + "regimens/new/", infusion_views.regimen_add, name="regimen_add"),
    path(P + "regimens/" + R + "edit/", infusion_views.regimen_edit, name="regimen_edit"),
    path(P + "infusions/new/", infusion_views.infusion_add, name="infusion_add"),
    path(P + "infusions/" + R + "edit/", infusion_views.infusion_edit, name="infusion_edit"),
    path(P + "medications/new/", infusion_views.medication_add, name="medication_add"),
    path(P + "medications/" + R + "edit/", infusion_views.medication_edit, name="medication_edit"),
    # corrections: any record marked entered in error (staff:<kind>_entered_in_error)
    *correction_views.urlpatterns(P, R),
    # review sweeps
    path("sweeps/", sweep_views.sweep_status, name="sweep_status"),
    path("sweeps/run/", sweep_views.sweep_run, name="sweep_run"),
    # alert governance
    path("alerts/", governance_views.alerts, name="alerts"),
    path("alerts.csv", governance_views.alerts_csv, name="alerts_csv"),
    path("alerts/chart.svg", governance_views.alerts_chart, name="alerts_chart"),
    # ruleset comparison
    path("rulesets/", ruleset_views.rulesets_page, name="rulesets"),
]
