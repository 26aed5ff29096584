"""The Celery application: configured from Django settings (CELERY_*), tasks discovered in each app."""

import os
from pathlib import Path
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerpay.settings.base")

app = Celery("ledgerpay")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _broker_folders_ensure(sender: Celery, **kwargs: Any) -> None:
    """kombu's filesystem transport (the embedded broker) needs its folders before the first message;
    created on the app's first use, not when settings are imported."""
    if not str(sender.conf.broker_url or "").startswith("filesystem://"):
        return
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)
