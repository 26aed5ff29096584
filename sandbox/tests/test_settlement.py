"""The sandbox's settlement reports, in process with a fixed clock: content, versions, every injected
fault and its reproducibility by seed, and the lost webhook. Read with the csv module only: the sandbox
is checked against the format, not against LedgerPay's parser (payments tests do that over HTTP)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from sandbox.config import FAULT_KINDS, SandboxConfig
from sandbox.processor import Processor

DAY = date(2026, 11, 30)
NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOON)


@pytest.fixture
def make_processor(tmp_path: Path, clock: Clock) -> Iterator[Any]:
    made: list[Processor] = []

    def make(name: str = "sandbox", **knobs: Any) -> Processor:
        config = SandboxConfig(**{"fee_bps": 200, "fee_fixed": 30, **knobs})
        processor = Processor(
            str(tmp_path / f"{name}-{len(made)}.sqlite3"), name=name, config=config, clock=clock
        )
        made.append(processor)
        return processor

    yield make
    for processor in made:
        processor.stop()


def charge(
    processor: Processor,
    amount: int,
    *,
    currency: str = "EUR",
    reference: str = "",
    method: str = "pm_card_visa",
) -> dict:
    key = f"key-{reference or amount}-{currency}"
    body = {"amount": amount, "currency": currency, "payment_method": method, "reference": reference}
    reply = processor.idempotent(key, key, lambda failures: processor.create_charge(body, key, failures))
    assert reply.status == 200, reply.body
    return reply.body


def refund(processor: Processor, charge_id: str, amount: int, key: str) -> dict:
    body = {"charge": charge_id, "amount": amount}
    reply = processor.idempotent(key, key, lambda _: processor.create_refund(body, key))
    assert reply.status == 200, reply.body
    return reply.body


def rows(processor: Processor, day: date = DAY, version: int | None = None) -> list[dict[str, str]]:
    _, body = processor.settlement_report(day, version)
    return list(csv.DictReader(io.StringIO(body.decode())))


def twenty_charges(processor: Processor) -> list[dict]:
    return [charge(processor, 1_000 + 37 * i, reference=f"payment-{i:02d}") for i in range(20)]


def test_report_itemizes_the_days_charges_and_refunds_in_batches_closed_by_payouts(make_processor, clock):
    processor = make_processor()
    clock.now = NOON - 86_400  # the day before: not in this day's report
    charge(processor, 999, reference="yesterday")
    clock.now = NOON
    eur = charge(processor, 10_000, reference="payment-eur")
    jpy = charge(processor, 5_000, currency="JPY", reference="payment-jpy")
    clock.now = NOON + 60
    back = refund(processor, eur["id"], 2_500, "ref_0123")

    lines = rows(processor)

    assert list(lines[0]) == [
        "line_id", "line_type", "psp_reference", "merchant_reference", "batch_id", "payout_id",
        "created_at", "available_on", "currency", "gross", "fee", "net",
    ]  # fmt: skip
    summary = [
        (
            x["line_type"],
            x["psp_reference"],
            x["merchant_reference"],
            x["currency"],
            x["gross"],
            x["fee"],
            x["net"],
        )
        for x in lines
    ]
    assert summary == [
        ("charge", eur["id"], "payment-eur", "EUR", "100.00", "2.30", "97.70"),  # 2 % + 0.30
        ("refund", back["id"], "ref_0123", "EUR", "-25.00", "0.00", "-25.00"),
        ("payout", "po_sandbox_20261130_eur", "", "EUR", "72.70", "0.00", "72.70"),
        ("charge", jpy["id"], "payment-jpy", "JPY", "5000", "130", "4870"),  # JPY has no minor digits
        ("payout", "po_sandbox_20261130_jpy", "", "JPY", "4870", "0", "4870"),
    ]
    assert {x["batch_id"] for x in lines} == {"ba_sandbox_20261130_eur", "ba_sandbox_20261130_jpy"}
    assert {x["available_on"] for x in lines} == {"2026-12-02"}
    assert [x["created_at"] for x in lines[:2]] == ["2026-11-30T12:00:00Z", "2026-11-30T12:01:00Z"]
    assert len({x["line_id"] for x in lines}) == len(lines)
    assert rows(processor, date(2026, 11, 29))[0]["merchant_reference"] == "yesterday"


def test_a_published_version_never_changes_and_a_correction_is_the_next_version(make_processor, clock):
    processor = make_processor()
    charge(processor, 1_000, reference="first")
    version, first = processor.settlement_report(DAY)
    assert version == 1
    charge(processor, 2_000, reference="second")  # late: not in the version already published
    assert processor.settlement_report(DAY) == (1, first)

    assert processor.settlement_report_publish(DAY)["version"] == 2
    assert processor.settlement_report(DAY, 1) == (1, first)
    assert [x["merchant_reference"] for x in rows(processor) if x["line_type"] == "charge"] == [
        "first",
        "second",
    ]
    # A line keeps its line_id from one version to the next.
    assert rows(processor, version=1)[0]["line_id"] == rows(processor, version=2)[0]["line_id"]


def _charges(lines: list[dict[str, str]]) -> list[dict[str, str]]:
    return [x for x in lines if x["line_type"] == "charge"]


def _batches_add_up(lines: list[dict[str, str]]) -> dict[str, tuple[int, int]]:
    """batch -> (Σ net of its lines, its payout) in minor units."""
    totals: dict[str, list[int]] = {}
    for x in lines:
        minor = int(x["net"].replace(".", ""))
        entry = totals.setdefault(x["batch_id"], [0, 0])
        entry[1 if x["line_type"] == "payout" else 0] += minor
    return {k: (v[0], v[1]) for k, v in totals.items()}


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind_changes_exactly_what_it_says(make_processor, kind):
    processor = make_processor(seed=7)
    charges = twenty_charges(processor)
    clean = rows(processor)  # version 1, no faults
    processor.configure({"settlement_faults": {kind: 1}})
    processor.settlement_report_publish(DAY)
    faulty = rows(processor, version=2)
    [fault] = processor.settlement_report_versions(DAY)[1]["faults"]
    assert fault["kind"] == kind
    by_ref = {x["psp_reference"]: x for x in _charges(clean)}
    new_ids = {x["line_id"] for x in faulty} - {x["line_id"] for x in clean}

    if kind == "amount_mismatch":
        [line] = [x for x in faulty if x["line_id"] == fault["line_id"]]
        before = by_ref[line["psp_reference"]]
        assert line["gross"] != before["gross"] and line["currency"] == before["currency"]
    elif kind == "currency_mismatch":
        [line] = [x for x in faulty if x["line_id"] == fault["line_id"]]
        assert line["currency"] != "EUR" and line["gross"] == by_ref[line["psp_reference"]]["gross"]
    elif kind == "fee_mismatch":
        [line] = [x for x in faulty if x["line_id"] == fault["line_id"]]
        before = by_ref[line["psp_reference"]]
        assert (line["gross"], line["currency"]) == (before["gross"], before["currency"])
        assert line["fee"] > before["fee"]
    elif kind == "missing_in_ledger":
        [line] = [x for x in faulty if x["line_id"] == fault["line_id"]]
        assert line["line_type"] == "charge"
        assert line["psp_reference"] not in {c["id"] for c in charges}
        assert line["merchant_reference"] not in {c["reference"] for c in charges}
    elif kind == "missing_at_provider":
        assert fault["psp_reference"] in by_ref
        assert fault["psp_reference"] not in {x["psp_reference"] for x in faulty}
        assert len(_charges(faulty)) == len(_charges(clean)) - 1
    elif kind == "duplicate_line":
        twins = [x for x in faulty if x["psp_reference"] == fault["psp_reference"]]
        assert len(twins) == 2 and twins[0]["line_id"] != twins[1]["line_id"]
        assert {k: v for k, v in twins[0].items() if k != "line_id"} == {
            k: v for k, v in twins[1].items() if k != "line_id"
        }
    if kind == "payout_mismatch":
        [(lines_net, payout)] = _batches_add_up(faulty).values()
        assert lines_net != payout and abs(lines_net - payout) == abs(fault["off_by"])
        assert _charges(faulty) == _charges(clean)
    else:
        # Every other fault keeps each batch's payout equal to its Σ net, and touches one line only.
        assert all(net == payout for net, payout in _batches_add_up(faulty).values())
        assert len(new_ids - {x["line_id"] for x in faulty if x["line_type"] == "payout"}) <= 1


def _shape(processor: Processor) -> list[tuple]:
    """The report without the random ids of charges and refunds, for comparing two sandboxes."""
    refs = {c["id"]: c["reference"] for c in processor.list_charges()}
    return [
        (
            x["line_type"],
            refs.get(x["psp_reference"], "?"),
            x["merchant_reference"],
            x["currency"],
            x["gross"],
            x["fee"],
        )
        for x in rows(processor)
    ]


def test_faults_are_reproducible_by_seed_and_day(make_processor):
    every_kind = dict.fromkeys(FAULT_KINDS, 1)
    shapes = []
    for seed in (11, 11, 12):
        processor = make_processor(seed=seed, settlement_faults=every_kind)
        twenty_charges(processor)
        shapes.append(_shape(processor))
    assert shapes[0] == shapes[1]
    assert shapes[0] != shapes[2]
    # One charge missing, one duplicated, one unknown; two payouts: the currency_mismatch line sits in
    # a batch of its own currency.
    assert len(shapes[0]) == 20 - 1 + 1 + 1 + 2
    assert sum(1 for x in shapes[0] if x[0] == "payout") == 2


def test_faults_by_day_override_the_every_day_faults(make_processor, clock):
    processor = make_processor(
        settlement_faults={"duplicate_line": 1}, settlement_faults_by_day={"2026-11-29": {"fee_mismatch": 2}}
    )
    twenty_charges(processor)
    clock.now = NOON - 86_400
    [charge(processor, 700 + i, reference=f"early-{i}") for i in range(3)]
    assert [f["kind"] for f in processor.settlement_report_publish(DAY)["faults"]] == ["duplicate_line"]
    faults = processor.settlement_report_publish(date(2026, 11, 29))["faults"]
    assert [f["kind"] for f in faults] == ["fee_mismatch", "fee_mismatch"]


def test_bad_fault_config_is_refused_and_changes_nothing(make_processor):
    processor = make_processor()
    for bad in ({"settlement_faults": {"nonsense": 1}}, {"settlement_faults": {"duplicate_line": -1}},
                {"settlement_faults_by_day": {"30.11.2026": {"fee_mismatch": 1}}}):  # fmt: skip
        with pytest.raises(ValueError):
            processor.configure(bad)
    assert processor.config.settlement_faults == {}


def test_a_lost_webhook_charge_succeeds_but_its_event_is_never_sent(make_processor, clock):
    processor = make_processor(
        lost_webhooks=1, webhook_url="http://127.0.0.1:9/hooks", webhook_secrets=["whsec_x"]
    )
    lost = charge(processor, 4_200, reference="payment-lost", method="pm_card_async")
    assert lost["status"] == "pending"
    clock.now = NOON + 10  # the async outcome is due
    processor.resolve_due()
    charge(processor, 4_300, reference="payment-announced", method="pm_card_async")
    clock.now = NOON + 20
    processor.resolve_due()

    assert processor.get_charge(lost["id"])["status"] == "succeeded"
    succeeded = {
        e["data"]["object"]["reference"]: e["state"]
        for e in processor.list_events()
        if e["type"] == "charge.succeeded"
    }
    assert succeeded == {"payment-lost": "suppressed", "payment-announced": "pending"}
    assert "payment-lost" in {x["merchant_reference"] for x in rows(processor)}


def test_the_fee_rule_can_differ_per_currency(make_processor):
    processor = make_processor(fee_fixed={"EUR": 25, "GBP": 20})
    charge(processor, 10_000, reference="eur")
    charge(processor, 10_000, currency="GBP", reference="gbp")
    charge(processor, 10_000, currency="USD", reference="usd")
    fees = {x["merchant_reference"]: x["fee"] for x in _charges(rows(processor))}
    assert fees == {"eur": "2.25", "gbp": "2.20", "usd": "2.00"}
