"""`manage.py run_outbox_relay`: publish outbox messages to the broker until stopped."""

import signal
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from payments.outbox import outbox_relay_run


class Command(BaseCommand):
    help = (
        "Publish the transactional outbox to the broker (RabbitMQ), with publisher confirms, until stopped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--poll",
            type=float,
            default=settings.OUTBOX_POLL_SECONDS,
            help="Seconds between polls when there is nothing to send.",
        )

    def handle(self, *args: object, poll: float, **options: object) -> None:
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Outbox relay publishing to {settings.CELERY_BROKER_URL.split('@')[-1]}")
        outbox_relay_run(poll_seconds=poll, stop=lambda: stopping)
        self.stdout.write("Outbox relay stopped.")
