"""A record that is already stored: the service refuses the copy and names the original.

The API answers 409 with the existing record's id (``ivigtrack.api.errors``); a page form shows
the message with a link to the record (``ivigtrack.web.forms.add_service_errors``, through the
link each app registers with `register_link`)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError

_links: dict[type, Callable] = {}


class DuplicateRecord(ValidationError):
    def __init__(self, existing, message: str):
        self.existing = existing
        super().__init__({"__all__": [message]}, code="duplicate")

    @property
    def existing_id(self) -> str:
        return str(self.existing.public_id)


def register_link(model: type, link: Callable) -> None:
    """`link(obj) -> url` of the staff page showing a record of `model`."""
    _links[model] = link


def record_link(obj) -> str | None:
    link = _links.get(type(obj))
    return link(obj) if link else None
