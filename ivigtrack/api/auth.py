"""Expiring, revocable API tokens (django-rest-knox): ``POST /api/v1/auth/token/`` and
``POST /api/v1/auth/logout/``.

A token lives ``IVIGTRACK_TOKEN_HOURS`` (default 12) and is stored only as a digest. Clients send
``Authorization: Token <token>`` as before. Logout deletes the token used; a password change or a
deactivation deletes all of the user's tokens (``ivigtrack.accounts.models.User.save``). The order
of the authentication classes (token first, so anonymous callers get 401; then session) is
``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, logout
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from ivigtrack.api.parsers import JSONParser


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=32,
        required=False,
        help_text="Staff with two-factor sign-in: the code from the authenticator app, or a recovery code.",
    )


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


def token_lifetime() -> timedelta:
    return timedelta(hours=settings.IVIGTRACK_TOKEN_HOURS)


def issue_token(user) -> tuple[str, AuthToken]:
    """A new token for ``user`` (its plain text is returned once, never stored); the user's
    expired tokens are deleted on the way."""
    AuthToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    instance, token = AuthToken.objects.create(user=user, expiry=token_lifetime())
    return token, instance


class TokenView(APIView):
    """``POST /api/v1/auth/token/`` {username, password} -> {"token", "expires_at"}.

    ``authenticate(request=...)`` goes through django-axes, so failed attempts count towards the
    lockout (and a locked pair or account gets the same "locked, try again at HH:MM" answer as the
    login page: ``ivigtrack.accounts.lockout``); the "token" throttle scope limits the rate.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES
    throttle_scope = "token"
    parser_classes = [JSONParser, FormParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Missing fields, wrong username or password, or a missing or wrong `otp`"),
            403: OpenApiResponse(description="Staff without the two-factor sign-in the clinic requires"),
            429: OpenApiResponse(description="Too many attempts: throttled, or sign-in locked until a time"),
        },
        auth=[],
        tags=["auth"],
        summary="Exchange a username and password for an expiring API token",
    )
    def post(self, request, *args, **kwargs):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The Django request: django-axes marks it when the pair or the account is locked.
        django_request = request._request
        user = authenticate(
            request=django_request,
            username=serializer.validated_data["username"],
            password=serializer.validated_data["password"],
        )
        if getattr(django_request, "axes_locked_out", False):
            from ivigtrack.accounts.lockout import lockout_response

            return lockout_response(django_request, None, {"username": serializer.validated_data["username"]})
        if user is None or not user.is_active:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Unable to log in with provided credentials."]}, code="authorization"
            )
        from ivigtrack.accounts import mfa

        refusal = mfa.token_refusal(user)
        if refusal:
            raise exceptions.PermissionDenied(refusal)
        if mfa.token_needs_otp(user):
            code = serializer.validated_data.get("otp", "")
            if not code:
                raise exceptions.ValidationError({"otp": ["A code from your authenticator app is required."]})
            if mfa.verify_code(user, code) is None:
                raise exceptions.ValidationError({"otp": ["That code did not match."]})
        token, instance = issue_token(user)
        return Response({"token": token, "expires_at": instance.expiry}, status=status.HTTP_200_OK)


class LogoutView(APIView):
    """``POST /api/v1/auth/logout/``: revokes the token used (and ends the session if the call
    came with the browser's cookie instead)."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        request=None,
        responses={204: None, 401: OpenApiResponse(description="No valid token or session")},
        tags=["auth"],
        summary="Revoke the token used for this request",
    )
    def post(self, request, *args, **kwargs):
        if isinstance(request.auth, AuthToken):
            request.auth.delete()
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
