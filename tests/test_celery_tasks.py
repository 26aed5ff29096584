"""Task names are constants shared by the settings, the outbox and the tasks: they must all agree."""

from django.conf import settings

from ledgerpay.celery import app
from payments.task_names import PaymentTask


def _registered() -> set[str]:
    app.loader.import_default_modules()
    return set(app.tasks)


def test_every_beat_schedule_entry_names_a_registered_task():
    registered = _registered()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled and scheduled <= registered


def test_every_provider_task_is_registered_and_routed_to_the_provider_queue():
    registered = _registered()
    for task in PaymentTask:
        assert task.value in registered
        assert app.amqp.router.route({}, task.value)["queue"].name == settings.PAYMENTS_QUEUE
