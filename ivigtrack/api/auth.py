"""The token endpoint. The order of the authentication classes (token first, so anonymous
callers get 401; then session) is ``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from ivigtrack.api.parsers import JSONParser


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenView(ObtainAuthToken):
    """``POST /api/v1/auth/token/`` {username, password} -> {"token": ...}.

    ``authenticate(request=...)`` (inside AuthTokenSerializer) goes through django-axes, so
    failed attempts count towards the lockout; the "token" throttle scope limits the rate.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES  # ObtainAuthToken sets none
    throttle_scope = "token"
    parser_classes = [JSONParser, FormParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer},
        auth=[],
        tags=["auth"],
        summary="Exchange a username and password for an API token",
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
