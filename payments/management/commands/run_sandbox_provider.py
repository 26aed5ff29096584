"""`manage.py run_sandbox_provider`: run the sandbox card processor with defaults from PAYMENT_PROVIDERS.

Thin on purpose: it only resolves defaults from settings (port, keys, webhook url, the provider's fee
rule) and calls sandbox.cli.serve, the same code `python -m sandbox` runs. The sandbox is a separate
program (the top-level `sandbox` package), imported here only when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox import cli as server


class Command(BaseCommand):
    help = "Run the sandbox card processor (an HTTP server in this process) for one configured provider name."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", default="sandbox", help="provider name in PAYMENT_PROVIDERS")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, help="default: the port of the provider's base_url")
        parser.add_argument("--db", help="SQLite file (default BASE_DIR/.data/sandbox-<name>.sqlite3)")
        parser.add_argument("--api-key", help="default: the provider's api_key")
        parser.add_argument("--webhook-url", help="default: http://127.0.0.1:8000/api/v1/webhooks/<name>")
        parser.add_argument(
            "--webhook-secret",
            action="append",
            help="default: the provider's webhook_secret; repeat to rotate",
        )
        parser.add_argument("--no-webhooks", action="store_true", help="record events but deliver none")
        parser.add_argument("--port-file", help="write the bound port here once listening (with --port 0)")
        server.add_knob_arguments(parser)
        # The fee rule defaults to the provider's settings, so that the sandbox charges what
        # reconciliation expects; a flag still overrides it.
        parser.set_defaults(fee_bps=None, fee_fixed=None)

    def handle(self, *args: object, **options: Any) -> None:
        name = options["name"]
        config = dict(settings.PAYMENT_PROVIDERS.get(name) or {})
        if not config and not (options["api_key"] and options["port"] is not None):
            raise CommandError(f"No provider {name!r} in PAYMENT_PROVIDERS: pass --api-key and --port.")

        port = options["port"]
        if port is None:
            port = urlsplit(config.get("base_url", "")).port
            if port is None:
                raise CommandError(f"Provider {name!r} has no port in its base_url: pass --port.")
        api_key = options["api_key"] or config.get("api_key")
        if not api_key:
            raise CommandError(f"Provider {name!r} has no api_key: pass --api-key.")
        secrets = options["webhook_secret"] or [config.get("webhook_secret") or ""]
        if options["no_webhooks"]:
            webhook_url = None
        else:
            webhook_url = (
                options["webhook_url"]
                or config.get("webhook_url")
                or f"http://127.0.0.1:8000/api/v1/webhooks/{name}"
            )
            if not any(secrets):
                raise CommandError(f"Provider {name!r} has no webhook_secret: pass --webhook-secret.")
        knobs = {k: options[k] for k in server.KNOB_OPTIONS}
        defaults = server.SandboxConfig()
        for knob in ("fee_bps", "fee_fixed"):
            if knobs[knob] is None:
                knobs[knob] = config.get(knob, getattr(defaults, knob))
        db = options["db"] or Path(settings.BASE_DIR) / ".data" / f"sandbox-{name}.sqlite3"

        self.stdout.write(
            f"Sandbox {name!r} on http://{options['host']}:{port} (db {db}); webhooks -> {webhook_url}"
        )
        try:
            server.serve(
                options["host"],
                port,
                db_path=db,
                name=name,
                api_key=api_key,
                webhook_url=webhook_url,
                webhook_secret=[s for s in secrets if s],
                port_file=options["port_file"],
                **knobs,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
