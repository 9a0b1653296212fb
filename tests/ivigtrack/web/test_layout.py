"""The frame of every page: who is logged in and in which role, logout, navigation per role,
htmx under the CSP, and error pages in the app's style."""

from __future__ import annotations

import json
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_staff_frame(nina_client):
    content = nina_client.get(reverse("staff:worklist")).content.decode()
    assert "Nina" in content and '<span class="role-badge">nurse</span>' in content
    assert f'action="{reverse("logout")}"' in content and "Log out" in content
    assert 'aria-current="page">Worklist</a>' in content
    assert reverse("staff:patient_list") in content and reverse("portal:home") not in content
    # htmx from the django-htmx package, configured for a CSP without inline styles
    assert "/static/django_htmx/htmx-2.min.js" in content
    config = re.search(r"""<meta name="htmx-config" content='([^']+)'>""", content).group(1)
    assert json.loads(config)["includeIndicatorStyles"] is False
    assert json.loads(config)["historyCacheSize"] == 0  # no patient data in localStorage
    assert re.search(r"""<body[^>]* hx-headers='\{"x-csrftoken": "[^"]+"\}'""", content)
    assert "hx-on" not in content


def test_portal_frame(pat_client):
    content = pat_client.get(reverse("portal:home")).content.decode()
    assert '<body class="portal"' in content and '<span class="role-badge">patient</span>' in content
    assert reverse("portal:symptom_report") in content and reverse("staff:worklist") not in content


def test_no_inline_scripts_or_styles(nina_client, pat_client, patient_pat):
    pages = [
        (nina_client, reverse("staff:worklist")),
        (nina_client, reverse("staff:patient_detail", args=[patient_pat.public_id])),
        (nina_client, reverse("staff:sweep_status")),
        (pat_client, reverse("portal:symptom_report")),
    ]
    for client, url in pages:
        content = client.get(url).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", content), url
        assert "<style" not in content and " style=" not in content, url
        assert not re.search(r"\son[a-z]+=", content), url  # no inline event handlers


def test_404_in_app_style(nina_client):
    response = nina_client.get("/staff/nowhere/")
    assert response.status_code == 404
    content = response.content.decode()
    assert "We could not find that page or record" in content and "/static/css/app.css" in content
    assert "Log out" in content


def test_500_page_renders_without_a_request():
    content = render_to_string("errors/500.html")
    assert "Something went wrong on our side" in content and "/static/css/app.css" in content


def test_login_page(client):
    content = client.get(reverse("login")).content.decode()
    assert 'for="id_username"' in content and 'autocomplete="current-password"' in content
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})
    assert "did not match" in response.content.decode()
