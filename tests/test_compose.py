"""docker-compose.yml and .env.example kept in step with the variables the settings read.

The variable names come from the settings source itself (ledgerpay/settings/*.py, parsed
with `ast`), so a variable added to the settings later is checked without touching this file.
Nothing here needs Docker or the database. Values written in docker-compose.yml as
${NAME:-default} are taken at their defaults, whatever the shell or a local .env says.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS_DIR = ROOT / "ledgerpay" / "settings"

# Containers that run the application image; they all share one environment block.
APP_SERVICES = ("api", "worker", "beat", "relay", "sandbox", "sandbox_secondary")
BACKING_SERVICES = ("postgres", "rabbitmq", "redis")

# Variables without which a container would silently fall back to the embedded PostgreSQL,
# the filesystem broker or the local-memory cache, or refuse to start.
REQUIRED_IN_CONTAINERS = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    # The secrets the settings refuse to run without when DEBUG is off.
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "PAYMENTS_SANDBOX_API_KEY",
    "PAYMENTS_SANDBOX_WEBHOOK_SECRET",
    "PAYMENTS_SANDBOX_SECONDARY_API_KEY",
    "PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_SECRET",
)

# URL variable -> (accepted URL schemes, image the service it points at must run, its default port).
URL_TARGETS = {
    "DATABASE_URL": ({"postgres", "postgresql", "pgsql"}, "postgres", 5432),
    "CELERY_BROKER_URL": ({"amqp", "pyamqp", "amqps"}, "rabbitmq", 5672),
    "REDIS_URL": ({"redis", "rediss"}, "redis", 6379),
}

# Read by Python or Django themselves rather than by the settings, so legitimate in a container.
RUNTIME_VARIABLES = frozenset({"DJANGO_SETTINGS_MODULE", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"})

API_PORT = 8000


# --- Reading the settings ----------------------------------------------------------------------


def _is_environ_env_constructor(func: ast.expr) -> bool:
    """`environ.Env` or a bare `Env`."""
    if isinstance(func, ast.Attribute):
        return func.attr == "Env" and isinstance(func.value, ast.Name) and func.value.id == "environ"
    return isinstance(func, ast.Name) and func.id == "Env"


def _is_os_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _literal_name(call: ast.Call) -> str | None:
    """The variable name a reading call passes: first positional argument or `var=`."""
    candidates = list(call.args[:1]) + [kw.value for kw in call.keywords if kw.arg == "var"]
    for arg in candidates:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
    return None


def _scan_settings() -> tuple[dict[str, list[str]], list[str]]:
    """Every environment variable name the settings read, with where, and the reads whose name
    is not a string literal (which this module could not check)."""
    names: dict[str, list[str]] = {}
    opaque: list[str] = []
    files = sorted(SETTINGS_DIR.rglob("*.py"))
    assert files, f"no settings files found under {SETTINGS_DIR}"
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(ROOT)

        # Names bound to a django-environ reader: `env = environ.Env(...)` (and `env` in any case).
        readers = {"env"}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Call)
                and _is_environ_env_constructor(node.value.func)
            ):
                readers.update(t.id for t in node.targets if isinstance(t, ast.Name))

        def add(name: str, node: ast.AST, _where: Path = where) -> None:
            names.setdefault(name, []).append(f"{_where}:{node.lineno}")

        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
                # os.environ["NAME"]
                if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                    add(node.slice.value, node)
                continue
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if _is_environ_env_constructor(func):
                # environ.Env(NAME=(type, default)) declares NAME as read.
                for kw in node.keywords:
                    if kw.arg:
                        add(kw.arg, node)
                continue
            is_read = False
            if isinstance(func, ast.Name) and func.id in readers:
                is_read = True  # env("NAME")
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if func.value.id in readers and func.attr != "read_env":
                    is_read = True  # env.str("NAME"), env.bool(...), env.db_url(...), ...
                elif func.value.id == "os" and func.attr == "getenv":
                    is_read = True
            elif isinstance(func, ast.Attribute) and _is_os_environ(func.value):
                is_read = func.attr in {"get", "setdefault", "pop"}
            if not is_read:
                continue
            name = _literal_name(node)
            if name is None:
                opaque.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
            else:
                add(name, node)
    return names, opaque


@pytest.fixture(scope="module")
def settings_scan() -> tuple[dict[str, list[str]], list[str]]:
    return _scan_settings()


@pytest.fixture(scope="module")
def settings_vars(settings_scan) -> dict[str, list[str]]:
    return settings_scan[0]


# --- Reading docker-compose.yml --------------------------------------------------------------

_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: str) -> str:
    """Compose's ${NAME:-default} substitution, with every NAME unset (so defaults apply)."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["braced"] and match["op"] in (":-", "-"):
            return match["arg"]
        return ""

    return _INTERPOLATION.sub(substitute, value)


def _environment(service: dict) -> dict[str, str | None]:
    """A service's environment as NAME -> interpolated value (None: passed through from the host)."""
    raw = service.get("environment") or {}
    result: dict[str, str | None] = {}
    if isinstance(raw, dict):
        for name, value in raw.items():
            result[str(name)] = None if value is None else interpolate(str(value))
    else:
        for item in raw:
            name, sep, value = str(item).partition("=")
            result[name] = interpolate(value) if sep else None
    return result


def _depends_on(service: dict) -> dict[str, str]:
    """depends_on as target -> condition (the short list form means service_started)."""
    raw = service.get("depends_on") or {}
    if isinstance(raw, list):
        return {str(name): "service_started" for name in raw}
    return {str(name): (spec or {}).get("condition", "service_started") for name, spec in raw.items()}


def _container_ports(service: dict) -> set[int]:
    """Container-side ports of a service's `ports`, in short ("8000:8000/tcp") or long syntax."""
    ports: set[int] = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            target = str(entry.get("target", ""))
        else:
            target = interpolate(str(entry)).split("/")[0].rsplit(":", 1)[-1]
        low, _, high = target.partition("-")
        if low.isdigit():
            ports.update(range(int(low), int(high or low) + 1))
    return ports


def _command_args(service: dict) -> list[str]:
    command = service.get("command") or []
    if isinstance(command, str):
        return interpolate(command).split()
    return [word for arg in command for word in interpolate(str(arg)).split()]


def _image_name(service: dict) -> str:
    """'postgres:16' -> 'postgres', 'docker.io/library/redis:7' -> 'redis'."""
    image = interpolate(str(service.get("image", "")))
    return image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]


@pytest.fixture(scope="module")
def compose() -> dict:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml is not a YAML mapping"
    assert isinstance(data.get("services"), dict), "docker-compose.yml has no `services:` mapping"
    return data


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def app_environments(services) -> dict[str, dict[str, str | None]]:
    return {name: _environment(services[name]) for name in APP_SERVICES if name in services}


# --- Reading .env.example --------------------------------------------------------------------

_ENV_LINE = re.compile(r"^(?P<commented>#\s?)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")


def _env_example_entries() -> list[tuple[int, str, bool, str]]:
    """(line number, name, commented out?, line above) for every `NAME=` or `# NAME=` line."""
    assert ENV_EXAMPLE.is_file(), f"{ENV_EXAMPLE} is missing"
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    entries = []
    for index, line in enumerate(lines):
        match = _ENV_LINE.match(line.strip())
        if match:
            above = lines[index - 1].strip() if index else ""
            entries.append((index + 1, match["name"], bool(match["commented"]), above))
    return entries


# --- The settings scan itself ------------------------------------------------------------------


def test_settings_scan_finds_the_known_variables(settings_vars):
    # Guards the scanner: if it stopped seeing reads, every other test here would pass vacuously.
    missing = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"} - set(settings_vars)
    assert not missing, f"the ast scan of {SETTINGS_DIR} did not find reads of {sorted(missing)}"


def test_settings_read_variables_by_literal_name(settings_scan):
    _, opaque = settings_scan
    assert not opaque, (
        "these settings read an environment variable whose name is not a string literal, so "
        "docker-compose.yml and .env.example cannot be checked against it:\n  " + "\n  ".join(opaque)
    )


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_has_every_service(services):
    missing = [name for name in (*BACKING_SERVICES, *APP_SERVICES) if name not in services]
    assert not missing, f"docker-compose.yml lacks the services {missing} (has {sorted(services)})"


@pytest.mark.parametrize("name", BACKING_SERVICES)
def test_backing_service_has_healthcheck(services, name):
    healthcheck = services.get(name, {}).get("healthcheck") or {}
    assert healthcheck.get("test") and not healthcheck.get("disable"), (
        f"service {name!r} has no healthcheck, so `condition: service_healthy` on it cannot work"
    )


def test_app_services_run_the_application_image(services):
    api = services.get("api", {})
    assert api.get("build"), "service 'api' is not built from the Dockerfile (no `build:`)"
    for name in APP_SERVICES:
        service = services.get(name, {})
        same_image = service.get("image") and service.get("image") == api.get("image")
        assert service.get("build") or same_image, (
            f"service {name!r} neither builds the Dockerfile nor uses the api's image {api.get('image')!r}"
        )


def test_app_services_take_variables_from_compose_only(services):
    with_env_file = [name for name in APP_SERVICES if services.get(name, {}).get("env_file")]
    assert not with_env_file, (
        f"services {with_env_file} use env_file, whose variables these tests cannot see; "
        "put them in the shared environment block of docker-compose.yml instead"
    )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_sets_only_variables_the_settings_read(app_environments, settings_vars, name):
    assert name in app_environments, f"service {name!r} is missing from docker-compose.yml"
    unknown = sorted(set(app_environments[name]) - set(settings_vars) - RUNTIME_VARIABLES)
    assert not unknown, (
        f"service {name!r} sets {unknown}, which no file in ledgerpay/settings/ reads "
        f"(dead or misspelled?); the settings read {sorted(settings_vars)}"
    )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_sets_the_container_essentials(app_environments, name):
    environment = app_environments.get(name, {})
    missing = [var for var in REQUIRED_IN_CONTAINERS if not environment.get(var)]
    assert not missing, (
        f"service {name!r} does not set {missing} (or sets them empty); without them the "
        "container falls back to the embedded database, filesystem broker or local-memory cache, "
        "or refuses to start"
    )


@pytest.mark.parametrize("variable", sorted(URL_TARGETS))
def test_backing_service_urls_point_at_compose_services(services, app_environments, variable):
    schemes, image, default_port = URL_TARGETS[variable]
    for name, environment in app_environments.items():
        url = environment.get(variable)
        assert url, f"service {name!r} does not set {variable}"
        parts = urlsplit(url)
        assert parts.scheme in schemes, (
            f"service {name!r}: {variable}={url!r} has scheme {parts.scheme!r}, expected one of {sorted(schemes)}"
        )
        host = parts.hostname
        assert host in services, (
            f"service {name!r}: {variable}={url!r} points at host {host!r}, which is not a service "
            f"in docker-compose.yml ({sorted(services)})"
        )
        assert _image_name(services[host]) == image, (
            f"service {name!r}: {variable} points at service {host!r}, which runs image "
            f"{services[host].get('image')!r} rather than {image}"
        )
        port = parts.port or default_port
        assert port == default_port, (
            f"service {name!r}: {variable}={url!r} uses port {port}, but {image} listens on {default_port}"
        )
        condition = _depends_on(services[name]).get(host)
        assert condition == "service_healthy", (
            f"service {name!r} uses {host!r} through {variable} but does not depend on it with "
            f"`condition: service_healthy` (has {condition!r})"
        )


def test_database_url_matches_the_postgres_service(services, app_environments):
    postgres = _environment(services.get("postgres", {}))
    url = urlsplit(app_environments.get("api", {}).get("DATABASE_URL") or "")
    expected = {
        "user": postgres.get("POSTGRES_USER") or "postgres",
        "password": postgres.get("POSTGRES_PASSWORD"),
        "database": postgres.get("POSTGRES_DB") or postgres.get("POSTGRES_USER") or "postgres",
    }
    actual = {"user": url.username, "password": url.password, "database": url.path.lstrip("/")}
    assert actual == expected, (
        f"DATABASE_URL of the api does not match the postgres service's POSTGRES_* settings: "
        f"URL has {actual}, postgres creates {expected}"
    )


def test_app_services_share_one_environment(app_environments):
    reference = app_environments.get("api", {})
    for name, environment in app_environments.items():
        differences = {
            var: {"api": reference.get(var, "<unset>"), name: environment.get(var, "<unset>")}
            for var in sorted(set(reference) | set(environment))
            if reference.get(var, "<unset>") != environment.get(var, "<unset>")
        }
        assert not differences, f"service {name!r} has a different environment from 'api': {differences}"


def test_depends_on_targets_exist(services):
    for name, service in services.items():
        for target, condition in _depends_on(service).items():
            assert target in services, f"service {name!r} depends on {target!r}, which is not a service"
            assert target != name, f"service {name!r} depends on itself"
            if condition == "service_healthy":
                assert (services[target].get("healthcheck") or {}).get("test"), (
                    f"service {name!r} waits for {target!r} to be healthy, but {target!r} has no healthcheck"
                )


def test_api_exposes_port_8000(services):
    api = services.get("api", {})
    assert API_PORT in _container_ports(api), (
        f"the api's `ports` {api.get('ports')!r} do not publish container port {API_PORT}"
    )


def test_api_migrates_then_serves_gunicorn_on_all_interfaces(services):
    args = _command_args(services.get("api", {}))
    joined = " ".join(args)
    assert "gunicorn" in args, f"the api's command does not run gunicorn: {joined!r}"
    assert "migrate" in args and args.index("migrate") < args.index("gunicorn"), (
        f"the api's command does not run `manage.py migrate` before gunicorn: {joined!r}"
    )
    assert "ledgerpay.wsgi:application" in args or "ledgerpay.wsgi" in args, (
        f"the api's gunicorn does not serve ledgerpay.wsgi: {joined!r}"
    )
    assert f"0.0.0.0:{API_PORT}" in joined, (
        f"the api's gunicorn does not bind 0.0.0.0:{API_PORT}, so it is unreachable from other containers: {joined!r}"
    )


def test_sandbox_webhooks_reach_the_api(services, app_environments):
    for name, variable in (
        ("sandbox", "PAYMENTS_SANDBOX_WEBHOOK_URL"),
        ("sandbox_secondary", "PAYMENTS_SANDBOX_SECONDARY_WEBHOOK_URL"),
    ):
        args = _command_args(services.get(name, {}))
        # The webhook URL comes from --webhook-url, or else from the provider's settings variable.
        if "--webhook-url" in args:
            raw = args[args.index("--webhook-url") + 1]
        else:
            raw = app_environments.get(name, {}).get(variable) or ""
        assert raw, f"service {name!r} has no webhook URL: neither --webhook-url nor {variable}"
        assert raw.endswith(f"/api/v1/webhooks/{name}"), f"service {name!r} posts webhooks to {raw!r}"
        url = urlsplit(raw)
        assert url.hostname in services, (
            f"service {name!r} posts webhooks to host {url.hostname!r}, which is not a compose service"
        )
        assert (url.port or 80) == API_PORT, (
            f"service {name!r} posts webhooks to port {url.port}, not {API_PORT}"
        )
        allowed = [h.strip() for h in (app_environments.get("api", {}).get("ALLOWED_HOSTS") or "").split(",")]
        assert url.hostname in allowed or "*" in allowed, (
            f"service {name!r} posts webhooks to host {url.hostname!r}, which the api's ALLOWED_HOSTS "
            f"{allowed} would reject with 400"
        )


def test_named_volumes_are_declared(compose, services):
    declared = set(compose.get("volumes") or {})
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
            if source and not source.startswith((".", "/", "~", "$")):
                assert source in declared, (
                    f"service {name!r} mounts named volume {source!r}, which the top-level `volumes:` lacks"
                )
    postgres_mounts = [str(v) for v in services.get("postgres", {}).get("volumes") or []]
    assert any(m.split(":")[0] in declared for m in postgres_mounts), (
        f"postgres keeps its data in no named volume (its volumes: {postgres_mounts})"
    )


# --- .env.example ----------------------------------------------------------------------------


def test_env_example_lists_every_variable_the_settings_read(settings_vars):
    documented = {name for _, name, _, _ in _env_example_entries()}
    missing = {name: where for name, where in settings_vars.items() if name not in documented}
    assert not missing, (
        f".env.example does not document these variables the settings read: {missing} "
        "(add `# meaning (default: X)` then `NAME=value`, or `# NAME=` for one normally left unset)"
    )


def test_env_example_lists_only_variables_the_settings_read(settings_vars):
    extra = sorted({name for _, name, _, _ in _env_example_entries()} - set(settings_vars))
    assert not extra, f".env.example lists {extra}, which no file in ledgerpay/settings/ reads"


def test_env_example_has_each_variable_once():
    seen: dict[str, int] = {}
    duplicates = []
    for line, name, _, _ in _env_example_entries():
        if name in seen:
            duplicates.append(f"{name} (lines {seen[name]} and {line})")
        seen.setdefault(name, line)
    assert not duplicates, f".env.example lists some variables more than once: {duplicates}"


def test_env_example_explains_each_variable():
    bad = [
        f"line {line}: {name}"
        for line, name, _, above in _env_example_entries()
        if not (above.startswith("#") and "(default:" in above and not _ENV_LINE.match(above))
    ]
    assert not bad, (
        "in .env.example each variable must directly follow a `# meaning (default: X)` comment; "
        f"these do not: {bad}"
    )
