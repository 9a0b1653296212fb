"""The API's JSON parser: DRF's, refusing bodies nested deeper than MAX_DEPTH with a 400.

Python's json module recurses once per level: a body of a few thousand "[" characters ends in
a RecursionError (a 500), and even when it parses, every layer above walks the structure again.
No request of this API needs more than a handful of levels. The depth is counted on the raw
text (strings skipped) before anything is decoded."""

from __future__ import annotations

import codecs
import io
import re

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 100
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def nesting_depth(text: str) -> int:
    depth = deepest = 0
    for match in _BRACKETS.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            codecs.lookup(encoding)
            text = raw.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ParseError(f"The body is not valid {encoding} text.") from exc
        if nesting_depth(text) > MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels is not accepted.")
        try:
            return super().parse(io.BytesIO(text.encode("utf-8")), media_type, {**parser_context, "encoding": "utf-8"})
        except RecursionError as exc:  # belt and braces
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels is not accepted.") from exc
