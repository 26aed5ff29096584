#!/usr/bin/env python
"""Django's command-line utility for LedgerPay.

When DATABASE_URL is unset it starts the embedded PostgreSQL (.data/postgres) and exports its URL
before Django loads, so that the settings themselves never start a server.
"""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerpay.settings.base")
    if _needs_database(sys.argv[1:2]):
        import environ

        from ledgerpay.embedded_db import database_url_export

        # .env may set DATABASE_URL; the settings read it the same way.
        environ.Env.read_env(
            os.path.join(os.path.dirname(os.path.abspath(__file__)), ".env"), overwrite=False
        )
        database_url_export()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def _needs_database(command: list[str]) -> bool:
    """Commands that never touch the database run without starting one (the image's collectstatic)."""
    return not command or command[0] not in {"collectstatic", "help", "--help", "-h", "version", "--version"}


if __name__ == "__main__":
    main()
