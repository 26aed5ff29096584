"""The audit log, append-only by trigger (SQL in sql/). The trigger function is the ledger's
(ledger 0002): the only dependency of core's migrations on an app, for the database function alone."""

from pathlib import Path

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SQL_DIR = Path(__file__).resolve().parent / "sql"


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("ledger", "0002_ledger_triggers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditLog",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField()),
                (
                    "actor_label",
                    models.CharField(
                        blank=True,
                        help_text="The actor's email, or the username tried at a failed login.",
                        max_length=254,
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("adjustment_proposed", "Adjustment proposed"),
                            ("adjustment_approved", "Adjustment approved"),
                            ("adjustment_rejected", "Adjustment rejected"),
                            ("discrepancy_resolved", "Discrepancy resolved"),
                            ("dead_letter_replayed", "Dead letter replayed"),
                            ("staff_login", "Staff login"),
                            ("staff_login_failed", "Failed login"),
                        ],
                        max_length=40,
                    ),
                ),
                ("target_type", models.CharField(blank=True, max_length=60)),
                ("target_id", models.CharField(blank=True, max_length=64)),
                ("ip", models.GenericIPAddressField(blank=True, null=True)),
                ("before", models.JSONField(blank=True, default=dict)),
                ("after", models.JSONField(blank=True, default=dict)),
                ("reason", models.TextField(blank=True)),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64, unique=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["target_type", "target_id"], name="core_audit_target"),
                    models.Index(fields=["actor", "-id"], name="core_audit_actor"),
                    models.Index(fields=["created_at"], name="core_audit_created"),
                ],
            },
        ),
        migrations.RunSQL(
            sql=(SQL_DIR / "0002_auditlog_append_only.sql").read_text(),
            reverse_sql=(SQL_DIR / "0002_auditlog_append_only.reverse.sql").read_text(),
        ),
    ]
