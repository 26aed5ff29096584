"""ledgerpay.processes: command lines that the programs they start read back as they were meant."""

from __future__ import annotations

from pathlib import Path

from ledgerpay.processes import sandbox_command
from sandbox.cli import build_parser


def test_a_secret_starting_with_a_dash_reaches_the_sandbox_as_a_value(tmp_path: Path) -> None:
    """secrets.token_urlsafe() starts with "-" one time in 64: it must not be taken for an option."""
    argv = sandbox_command(
        name="sandbox",
        port=0,
        api_key="-k3y",
        webhook_secret="-whsec",
        webhook_url=None,
        db=tmp_path / "sandbox.sqlite3",
    )
    parsed = build_parser().parse_args(argv[3:])
    assert (parsed.api_key, parsed.webhook_secret) == ("-k3y", ["-whsec"])
