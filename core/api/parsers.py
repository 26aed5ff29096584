"""JSON parsing that keeps numbers exact (floats become Decimal, never binary floating point) and refuses
text PostgreSQL cannot store (NUL, lone surrogates) anywhere in the document, keys included."""

import codecs
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import IO, Any, NoReturn

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser


def _reject_constant(value: str) -> NoReturn:
    raise ValueError(f"{value} is not valid JSON")


def _unstorable(text: str) -> bool:
    """NUL cannot be stored in PostgreSQL text or jsonb; a lone surrogate cannot be encoded in UTF-8."""
    return "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)


def unstorable_text_paths(value: object, path: str = "") -> list[str]:
    """The dotted paths (field names, object keys, list indexes) of every string PostgreSQL cannot store."""
    found: list[str] = []
    if isinstance(value, str):
        if _unstorable(value):
            found.append(path or "non_field_errors")
    elif isinstance(value, dict):
        for key, sub in value.items():
            name = f"{path}.{key}" if path else str(key)
            if _unstorable(str(key)):
                found.append(name)
            else:
                found.extend(unstorable_text_paths(sub, name))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found.extend(unstorable_text_paths(sub, f"{path}.{index}" if path else str(index)))
    return found


class ExactJSONParser(JSONParser):
    """Parses JSON numbers with a fraction or exponent as Decimal, and refuses NaN/Infinity."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            if not text.strip():
                raise ParseError("The request body is empty; send a JSON object.")
            data = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        except RecursionError as exc:
            raise ParseError("The request body is nested too deeply.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"The request body is not valid JSON: {exc}") from exc
        try:
            bad = [path.encode("unicode_escape").decode("ascii") for path in unstorable_text_paths(data)]
        except RecursionError as exc:
            raise ParseError("The request body is nested too deeply.") from exc
        if bad:
            # Refused while parsing, before any view or idempotency key sees the request.
            raise ValidationError(
                {path: ["Text may not contain NUL characters or unpaired surrogates."] for path in bad}
            )
        return data
