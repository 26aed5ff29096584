"""JSON parsing that keeps numbers exact: floats become Decimal, never binary floating point."""

import codecs
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import IO, Any, NoReturn

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _reject_constant(value: str) -> NoReturn:
    raise ValueError(f"{value} is not valid JSON")


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
            return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        except RecursionError as exc:
            raise ParseError("The request body is nested too deeply.") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"The request body is not valid JSON: {exc}") from exc
