"""`manage.py dead_letters list | show ID | replay ID... | replay --all`: work that exhausted its retries.

`list` shows only the letters that need a person: not replayed, and not resolved (a letter is resolved
automatically once its payment or refund reached a final state); `list --all` shows every one.
"""

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.audit import audit_record
from core.models import AuditAction
from payments.models import DeadLetter
from payments.services import dead_letter_replay


class Command(BaseCommand):
    help = "List, show and replay dead letters (tasks that exhausted their retries)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser(
            "list", help="Dead letters that need a person: not replayed, not resolved (--all: every one)."
        )
        listing.add_argument("--all", action="store_true", help="Also the replayed and resolved ones.")
        show = sub.add_parser("show", help="One dead letter in full.")
        show.add_argument("id", type=int)
        replay = sub.add_parser("replay", help="Send the task again through the outbox.")
        replay.add_argument("ids", type=int, nargs="*")
        replay.add_argument("--all", action="store_true", help="Every dead letter that needs a person.")

    def handle(self, *args: object, action: str, **options: Any) -> None:
        if action == "list":
            letters = DeadLetter.objects.order_by("id")
            if not options["all"]:
                letters = letters.filter(replayed_at__isnull=True, resolved_at__isnull=True)
            for letter in letters:
                if letter.resolved_at:
                    state = f"resolved {letter.resolved_at:%Y-%m-%d %H:%M}: {letter.resolution}"
                elif letter.replayed_at:
                    state = f"replayed {letter.replayed_at:%Y-%m-%d %H:%M}"
                else:
                    state = "waiting"
                self.stdout.write(
                    f"{letter.id:>6}  {letter.created_at:%Y-%m-%d %H:%M:%S}  {letter.task}  "
                    f"{letter.kwargs}  retries={letter.retries}  {state}  {letter.error[:80]}"
                )
            self.stdout.write(f"{letters.count()} dead letter(s).")
        elif action == "show":
            found = DeadLetter.objects.filter(pk=options["id"]).first()
            if found is None:
                raise CommandError(f"No dead letter {options['id']}.")
            for field in (
                "id",
                "task",
                "kwargs",
                "message_id",
                "correlation_id",
                "retries",
                "created_at",
                "replayed_at",
                "replayed_as_id",
                "resolved_at",
                "resolution",
                "error",
            ):
                self.stdout.write(f"{field}: {getattr(found, field)}")
        else:
            ids = (
                list(
                    DeadLetter.objects.filter(replayed_at__isnull=True, resolved_at__isnull=True).values_list(
                        "id", flat=True
                    )
                )
                if options["all"]
                else options["ids"]
            )
            if not ids:
                raise CommandError("Name the dead letters to replay, or use --all.")
            missing = set(ids) - set(DeadLetter.objects.filter(pk__in=ids).values_list("id", flat=True))
            if missing:
                raise CommandError(f"No dead letter {', '.join(map(str, sorted(missing)))}.")
            for letter_id in ids:
                try:
                    with transaction.atomic(durable=True):
                        message = dead_letter_replay(dead_letter_id=letter_id)
                        # The operator at the shell, as the audit log's actor (no staff user here).
                        audit_record(
                            actor=None,
                            actor_label=f"cli:{getpass.getuser()}",
                            action=AuditAction.DEAD_LETTER_REPLAYED,
                            target_type="payments.deadletter",
                            target_id=letter_id,
                            before={"replayed_at": None},
                            after={"outbox_message": message.pk},
                            reason="manage.py dead_letters replay",
                        )
                except ValueError as exc:
                    raise CommandError(str(exc)) from exc
                self.stdout.write(f"Replayed dead letter {letter_id} as outbox message {message.pk}.")
