"""The operators' contract of `settle` and `reconcile`: flags, exit statuses, output formats and keys,
usage errors (exit 2, a clear message on stderr), --dry-run writing nothing, the progress bar only on a
terminal."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest

from ledger.models import Transfer
from reconciliation.models import Discrepancy, Match, ReconciliationRun, SettlementLine, SettlementReport
from reconciliation.presentation import ProgressBar
from reconciliation.tests.conftest import today
from reconciliation.tests.test_reports import HEADER, good_rows, write

pytestmark = pytest.mark.django_db

USAGE = [
    (
        ["reconcile", "--provider", "sandbox", "--date", "2026-02-30"],
        "invalid date '2026-02-30': use YYYY-MM-DD",
    ),
    (["reconcile", "--provider", "sandbox", "--date", "12/01/2026"], "invalid date"),
    (["reconcile", "--provider", "sandbox", "--date", "2026-1-5"], "invalid date"),
    (["settle", "--provider", "sandbox", "--date", "yesterday"], "invalid date"),
    (["settle", "--provider", "sandbox"], "the following arguments are required: --date"),
    (["reconcile", "--date", "2026-01-05"], "the following arguments are required: --provider"),
    (["reconcile", "--provider", "sandbox"], "give --date, or both --from and --to"),
    (["reconcile", "--provider", "sandbox", "--from", "2026-01-05"], "give --date, or both --from and --to"),
    (
        [
            "reconcile",
            "--provider",
            "sandbox",
            "--date",
            "2026-01-05",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-02",
        ],
        "either --date or --from and --to",
    ),
    (
        ["reconcile", "--provider", "sandbox", "--from", "2026-01-05", "--to", "2026-01-01"],
        "is before --from",
    ),
    (
        ["reconcile", "--provider", "sandbox", "--date", "2026-01-05", "--format", "xml"],
        "invalid choice: 'xml'",
    ),
    (["reconcile", "--provider", "nope", "--date", "2026-01-05"], "unknown_provider"),
    (["settle", "--provider", "nope", "--date", "2026-01-05"], "unknown_provider"),
    (
        ["settle", "--provider", "sandbox", "--date", "2026-01-05", "--file", "x.csv"],
        "unrecognized arguments: --file",
    ),
    (
        ["reconcile", "--provider", "sandbox", "--from", "2026-01-01", "--to", "2026-01-02", "--file", "x"],
        "--file goes with --date",
    ),
]


@pytest.mark.parametrize(("args", "message"), USAGE, ids=[" ".join(a[1:]) for a, _ in USAGE])
def test_bad_usage_exits_2_with_a_clear_message_and_writes_nothing(args, message, cli):
    result = cli(*args)
    assert result.code == 2
    assert message in result.err, result.err
    assert result.out == ""
    assert not ReconciliationRun.objects.exists()


def test_a_day_in_the_future_is_bad_input(cli):
    tomorrow = (today() + timedelta(days=1)).isoformat()
    for command in ("settle", "reconcile"):
        result = cli(command, "--provider", "sandbox", "--date", tomorrow)
        assert result.code == 2 and "is in the future" in result.err


def test_json_output_has_the_contracted_keys_and_dry_run_writes_nothing(cli, tmp_path):
    path = write(tmp_path, "\n".join([HEADER, *good_rows()]) + "\n")
    args = ["reconcile", "--provider", "sandbox", "--date", today().isoformat(), "--file", str(path)]

    dry = cli(*args, "--dry-run", "--format", "json")

    assert dry.code == 1  # the lines name payments LedgerPay does not have
    data = json.loads(dry.out)
    assert {"provider", "date", "report_version", "verdict", "counts", "totals", "discrepancies"} <= set(data)
    assert data["provider"] == "sandbox" and data["date"] == today().isoformat() and data["dry_run"] is True
    assert data["verdict"] == "breaks" and data["run"] is None
    assert data["counts"]["missing_in_ledger"] == 2 and data["counts"]["payouts"] == 1
    assert data["totals"]["USD"] == {
        "provider": "8.00",
        "ledger": "0.00",
        "explained": "8.00",
        "unexplained": "0.00",
    }
    assert {d["class"] for d in data["discrepancies"]} == {"missing_in_ledger"}
    for model in (ReconciliationRun, SettlementReport, SettlementLine, Discrepancy, Match, Transfer):
        assert not model.objects.exists(), model

    real = cli(*args, "--format", "json")
    assert real.code == 1
    assert json.loads(real.out)["counts"] == data["counts"]
    assert Discrepancy.objects.count() == 2 and ReconciliationRun.objects.count() == 1


def test_text_output_shows_the_summary_and_the_open_items(cli, tmp_path):
    path = write(tmp_path, "\n".join([HEADER, *good_rows()]) + "\n")
    result = cli("reconcile", "--provider", "sandbox", "--date", today().isoformat(), "--file", str(path))
    assert result.code == 1
    assert "Verdict: breaks" in result.out
    assert "missing_in_ledger  USD" in result.out
    assert "Open items: 2" in result.out and "sl_1" in result.out and "sl_2" in result.out
    assert result.err == ""  # no progress bar: stderr is not a terminal


def test_a_range_reconciles_each_day_and_answers_the_worst_verdict(cli, provider):
    first = today() - timedelta(days=1)
    result = cli(
        "reconcile",
        "--provider",
        "sandbox",
        "--from",
        first.isoformat(),
        "--to",
        today().isoformat(),
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["verdict"] == "reconciled" and [d["date"] for d in data["days"]] == [
        first.isoformat(),
        today().isoformat(),
    ]
    assert ReconciliationRun.objects.count() == 2


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_is_drawn_only_on_a_terminal():
    terminal, pipe = Terminal(), io.StringIO()
    for stream in (terminal, pipe):
        bar = ProgressBar(stream, label="reconcile")
        bar("fetch")
        bar("match")
        bar.close()
    assert "[" in terminal.getvalue() and "match" in terminal.getvalue()
    assert pipe.getvalue() == ""
