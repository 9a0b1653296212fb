"""Two-factor pages: set up an authenticator app (TOTP, with recovery codes shown once) and enter
a code after the password. See ``ivigtrack.accounts.mfa`` for who must."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import mfa


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return "/"
    return target


def _secret(device: TOTPDevice) -> str:
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not mfa.needs_second_factor(user):
        return redirect("home")
    if mfa.has_authenticator(user):
        # Replacing an authenticator needs the old one (or the clinic's admin): never on a password alone.
        if user.is_verified():
            return redirect(_next(request))
        return redirect(f"{reverse('accounts:2fa_verify')}?{urlencode({'next': _next(request)})}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token("".join(form.cleaned_data["code"].split())):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
            codes = [StaticToken.random_token() for _ in range(mfa.RECOVERY_CODES)]
            StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
            otp_login(request, device)
            request.session[mfa.HAS_DEVICE] = True
            return render(request, "registration/two_factor_recovery.html", {"codes": codes, "next": _next(request)})
        form.add_error("code", "That code did not match. Check the time on your phone and try the newest code.")
    context = {
        "form": form,
        "qr": segno.make(device.config_url, error="m").svg_data_uri(scale=4),
        "secret": _secret(device),
        "next": _next(request),
        "required": mfa.mfa_required(),
    }
    return render(request, "registration/two_factor_setup.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not mfa.needs_second_factor(user):
        return redirect("home")
    if not mfa.has_authenticator(user):
        return redirect(f"{reverse('accounts:2fa_setup')}?{urlencode({'next': _next(request)})}")
    if user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = mfa.verify_code(user, form.cleaned_data["code"])
        if device is not None:
            otp_login(request, device)
            if isinstance(device, StaticDevice):
                left = device.token_set.count()
                messages.warning(request, f"Recovery code used; {left} left. Each code works once.")
            return redirect(_next(request))
        form.add_error("code", "That code did not match.")
    return render(request, "registration/two_factor_verify.html", {"form": form, "next": _next(request)})
