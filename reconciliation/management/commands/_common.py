"""What the settle and reconcile commands share: argument types, errors as exit 2, output."""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import date

from django.core.management.base import CommandError

from ...errors import ReconciliationError

EXIT_OK, EXIT_DISCREPANCIES, EXIT_USAGE = 0, 1, 2


def iso_date(text: str) -> date:
    """An argparse type: a calendar date written YYYY-MM-DD (anything else is a usage error, exit 2)."""
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: use YYYY-MM-DD") from None


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=EXIT_USAGE)


def failed(exc: ReconciliationError) -> CommandError:
    return CommandError(f"{exc.code}: {exc.detail}", returncode=EXIT_USAGE)


def schedule() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:40]
    except Exception:
        return "cli"


def dumps(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False)
