"""The API's token authentication (django-rest-knox), kept apart from the views: DRF imports
``REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]`` while ``rest_framework.views`` loads."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox import auth as knox_auth
from rest_framework import exceptions


class ExpiringTokenAuthentication(knox_auth.TokenAuthentication):
    """knox's token check, with two changes: a header that is not UTF-8 is a 401 (not a 500), and
    only the presented token is checked for expiry (knox also walks every other token of the user
    on every request; those are cleaned at the next login instead), so a request costs one query.
    """

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        return super().authenticate_credentials(token)

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme: ``Authorization: Token <token>`` (was DRF's ``tokenAuth``)."""

    target_class = "ivigtrack.api.tokens.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
