# The IdempotencyKey model moves here from the ledger app. Its table (ledger_idempotencykey) is
# created by ledger.0001_initial and keeps its name and rows: this migration only adds the model to
# core's state, and ledger.0004 (which runs after it) removes it from the ledger's state. core does
# not depend on the ledger's migrations: it changes nothing in the database.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyKey",
                    fields=[
                        ("id", models.BigAutoField(primary_key=True, serialize=False)),
                        ("key", models.CharField(max_length=255)),
                        (
                            "fingerprint",
                            models.CharField(help_text="SHA-256 of method, path and body.", max_length=64),
                        ),
                        ("request_method", models.CharField(max_length=10)),
                        ("request_path", models.CharField(max_length=255)),
                        (
                            "status",
                            models.CharField(
                                choices=[("in_progress", "In progress"), ("completed", "Completed")],
                                default="in_progress",
                                max_length=12,
                            ),
                        ),
                        ("response_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("response_body", models.BinaryField(blank=True, null=True)),
                        ("response_content_type", models.CharField(blank=True, max_length=60)),
                        ("locked_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("expires_at", models.DateTimeField()),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "db_table": "ledger_idempotencykey",
                        "indexes": [models.Index(fields=["expires_at"], name="ledger_idempotency_expires")],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "key"), name="ledger_idempotency_user_key_unique"
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
