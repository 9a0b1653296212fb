"""Patient portal pages (namespace "portal"). The patient comes from the login, never the URL."""

from django.urls import path

from infusions import checkin_views
from infusions import views as infusion_views
from patients import access_log
from patients import views as patient_views

app_name = "portal"

urlpatterns = [
    path("", infusion_views.portal_home, name="home"),
    path("infusions/new/", infusion_views.portal_infusion_log, name="infusion_log"),
    path("symptoms/new/", patient_views.portal_symptom_report, name="symptom_report"),
    path("symptoms/<uuid:report_id>/", patient_views.portal_symptom_result, name="symptom_result"),
    path("history/", infusion_views.portal_history, name="history"),
    path("access-log/", access_log.portal_access_log, name="access_log"),
    path("checkin/", checkin_views.portal_checkin, name="checkin"),
    path("reminders/", patient_views.portal_reminders, name="reminders"),
]
