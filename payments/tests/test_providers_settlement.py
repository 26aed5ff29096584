"""The settlement report format (payments.providers.settlement): the writer and the streaming parser on
good input and on every kind of bad input (with its line number), and the sandbox adapter fetching a
report over HTTP, faults and versions included. No database needed."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from payments.providers import FeeRule, provider_fee_rule
from payments.providers.base import SettlementLine, SettlementLineType, SettlementReportSource
from payments.providers.sandbox import SandboxProvider
from payments.providers.settlement import (
    COLUMNS,
    SettlementReportError,
    settlement_lines_read,
    settlement_lines_write,
    settlement_report_from_file,
)

from .conftest import SandboxProcess
from .test_providers_sandbox import charge_request

DAY = date(2026, 11, 30)
AT = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
HEADER = ",".join(COLUMNS)


def line(
    line_type: SettlementLineType = SettlementLineType.CHARGE,
    *,
    n: int = 1,
    gross: int = 10_000,
    fee: int = 320,
    currency: str = "EUR",
    batch: str = "ba_1",
) -> SettlementLine:
    return SettlementLine(
        line_number=0,
        line_id=f"sl_{line_type.value}_{n}",
        line_type=line_type,
        psp_reference=f"ch_{n}",
        merchant_reference=f"payment-{n}",
        batch_id=batch,
        payout_id=f"po_{batch}",
        created_at=AT,
        available_on=DAY + timedelta(days=2),
        currency=currency,
        gross=gross,
        fee=fee,
        net=gross - fee,
    )


def payout(net: int, *, currency: str = "EUR", batch: str = "ba_1") -> SettlementLine:
    return line(SettlementLineType.PAYOUT, n=99, gross=net, fee=0, currency=currency, batch=batch)


def good_lines() -> list[SettlementLine]:
    refund = line(SettlementLineType.REFUND, n=3, gross=-2_500, fee=0)
    return [
        line(n=1),
        line(n=2, gross=1, fee=0),
        refund,
        payout(9_680 + 1 - 2_500),
        line(n=4, gross=5_000, fee=130, currency="JPY", batch="ba_2"),
        payout(4_870, currency="JPY", batch="ba_2"),
    ]


def write(lines: list[SettlementLine]) -> bytes:
    buffer = io.StringIO()
    settlement_lines_write(buffer, lines)
    return buffer.getvalue().encode()


def read(data: bytes, *, day: date = DAY, **options: bool) -> list[SettlementLine]:
    return list(settlement_lines_read(io.BytesIO(data), day=day, **options))


# --- good input -------------------------------------------------------------------------------------


def test_written_lines_read_back_as_typed_lines_with_their_file_line_numbers():
    data = write(good_lines())
    assert data.decode().splitlines()[1] == (
        "sl_charge_1,charge,ch_1,payment-1,ba_1,po_ba_1,2026-11-30T09:30:00Z,2026-12-02,EUR,100.00,3.20,96.80"
    )
    parsed = read(data)
    assert [x.line_number for x in parsed] == [2, 3, 4, 5, 6, 7]
    expected = [
        (x.line_type, x.currency, x.gross, x.fee, x.net, x.created_at, x.available_on) for x in good_lines()
    ]
    assert [
        (x.line_type, x.currency, x.gross, x.fee, x.net, x.created_at, x.available_on) for x in parsed
    ] == expected
    assert [x.batch_net for x in parsed] == [None, None, None, 7_181, None, 4_870]
    assert "-25.00" in data.decode() and ",5000,130,4870" in data.decode()


def test_a_day_without_lines_is_a_header_alone():
    assert read(f"{HEADER}\n".encode()) == []


def test_columns_may_come_in_any_order_with_extra_ones_and_a_bom():
    text = write(good_lines()[:4]).decode()
    rows = [r.split(",") for r in text.splitlines()]
    reordered = [
        "\ufeff" + ",".join(["comment", *reversed(r)]) if i == 0 else ",".join(["x", *reversed(r)])
        for i, r in enumerate(rows)
    ]
    assert [x.net for x in read("\n".join(reordered).encode())] == [9_680, 1, -2_500, 7_181]


def test_a_report_file_by_path_has_its_checksum_and_is_never_deleted(tmp_path: Path):
    path = tmp_path / "report.csv"
    settlement_lines_write(path, good_lines())
    report = settlement_report_from_file(path, provider="sandbox", day=DAY, version=3)
    assert (report.source, report.version, report.size) == (
        SettlementReportSource.FILE,
        3,
        path.stat().st_size,
    )
    assert len(report.checksum) == 64
    with report:
        assert len(list(report.lines())) == 6
    assert path.exists()


def test_the_fee_rule_rounds_half_up_and_may_differ_per_currency():
    assert FeeRule(bps=250, fixed=25).fee(3_333, "EUR") == 25 + 83  # 83.325
    assert FeeRule(bps=250, fixed=0).fee(3_334, "EUR") == 83  # 83.35 -> 83
    assert FeeRule(bps=250, fixed=0).fee(3_340, "EUR") == 84  # 83.5 -> 84
    assert FeeRule(bps=100, fixed={"EUR": 25}).fee(1_000, "GBP") == 10


def test_each_provider_has_a_fee_rule_in_settings(settings):
    assert provider_fee_rule("sandbox") == FeeRule(bps=290, fixed=30)
    settings.PAYMENT_PROVIDERS = {"other": {"class": "x.Y", "fee_bps": 150, "fee_fixed": {"USD": 10}}}
    assert provider_fee_rule("other") == FeeRule(bps=150, fixed={"USD": 10})


# --- bad input: one error type, the line number and the reason --------------------------------------


def _text(lines: list[SettlementLine]) -> list[str]:
    return write(lines).decode().splitlines()


def _replace(row: int, column: str, value: str) -> bytes:
    rows = _text(good_lines())
    fields = rows[row - 1].split(",")
    fields[COLUMNS.index(column)] = value
    rows[row - 1] = ",".join(fields)
    return "\n".join(rows).encode()


BAD_INPUT = {
    "empty file": (b"", 1, "empty file"),
    "blank lines only": (b"\n\n", 1, "empty file"),
    "not CSV: binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00", 1, "not CSV"),
    "not CSV: a JSON body": (b'{"error": {"code": "oops"}}\n', 1, "not CSV"),
    "not CSV: broken quoting": (f'{HEADER}\n"sl_1,charge\n'.encode(), 2, "not CSV"),
    "missing columns": (
        b"line_id,line_type,psp_reference,currency,gross\n",
        1,
        "missing columns: merchant_reference, batch_id, payout_id, created_at, available_on, fee, net",
    ),
    "a short row": (f"{HEADER}\nsl_1,charge,ch_1\n".encode(), 2, "expected 12 fields, found 3"),
    "unknown line type": (_replace(3, "line_type", "capture"), 3, "unknown line_type 'capture'"),
    "unknown currency": (_replace(2, "currency", "XYZ"), 2, "unknown currency 'XYZ'"),
    "lower-case currency": (_replace(2, "currency", "eur"), 2, "unknown currency 'eur'"),
    "bad amount: letters": (_replace(2, "gross", "1O0.00"), 2, "bad amount in gross: '1O0.00'"),
    "bad amount: too few digits": (_replace(2, "gross", "100.0"), 2, "bad amount in gross: '100.0'"),
    "bad amount: too many digits": (_replace(2, "fee", "3.200"), 2, "bad amount in fee: '3.200'"),
    "bad amount: exponent": (_replace(2, "net", "9.68E1"), 2, "bad amount in net: '9.68E1'"),
    "bad amount: empty": (_replace(2, "gross", ""), 2, "bad amount in gross: ''"),
    "net is not gross - fee": (_replace(2, "net", "96.81"), 2, "net 96.81 is not gross 100.00 - fee 3.20"),
    "line of another day": (_replace(4, "created_at", "2026-12-01T00:00:00Z"), 4, "a line of another day"),
    "line of another day by offset": (
        _replace(2, "created_at", "2026-11-30T23:30:00-01:00"),
        2,
        "a line of another day",
    ),
    "created_at without offset": (_replace(2, "created_at", "2026-11-30T09:30:00"), 2, "no UTC offset"),
    "bad created_at": (_replace(2, "created_at", "yesterday"), 2, "bad created_at 'yesterday'"),
    "bad available_on": (_replace(2, "available_on", "2026-02-30"), 2, "bad available_on '2026-02-30'"),
    "payout does not add up": (
        _replace(5, "gross", "71.82").replace(b"71.82,0.00,71.81", b"71.82,0.00,71.82"),
        5,
        "payout 71.82 EUR of batch ba_1 does not add up: its lines' net is 71.81",
    ),
    "a batch mixing currencies": (_replace(3, "currency", "USD"), 3, "batch ba_1 mixes EUR and USD"),
    "a line after its batch's payout": (
        write([*good_lines(), line(n=7, batch="ba_2", currency="JPY", gross=100, fee=0)]),
        8,
        "line after the payout that closed batch ba_2 (line 7)",
    ),
    "a batch without payout": (write(good_lines()[:3]), 4, "batch ba_1 has no payout line"),
    "empty line_id": (_replace(2, "line_id", ""), 2, "line_id is empty"),
}


@pytest.mark.parametrize("data,line_number,reason", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_raises_one_error_with_the_line_and_the_reason(data: bytes, line_number: int, reason: str):
    with pytest.raises(SettlementReportError) as caught:
        read(data)
    assert caught.value.line == line_number, caught.value
    assert reason in caught.value.reason
    assert str(caught.value).startswith(f"line {line_number}: ")


def test_a_payout_mismatch_can_be_let_through_for_reconciliation_to_classify():
    data = _replace(5, "gross", "71.82").replace(b"71.82,0.00,71.81", b"71.82,0.00,71.82")
    *_, eur_payout, _, _ = read(data, allow_payout_mismatch=True)
    assert (eur_payout.net, eur_payout.batch_net) == (7_182, 7_181)


def test_the_parser_streams_a_large_report_in_constant_memory(tmp_path: Path):
    """100,000 lines, read lazily: the first line comes before the file has been read to its end."""
    path = tmp_path / "big.csv"
    many = [line(n=i, gross=1_000 + i % 500, fee=29) for i in range(100_000)]
    total = sum(x.net for x in many)
    settlement_lines_write(path, [*many, payout(total)])
    with path.open("rb") as file:
        lines = settlement_lines_read(file, day=DAY)
        first = next(lines)
        assert first.line_number == 2 and file.tell() < path.stat().st_size
        rest = sum(1 for _ in lines)
    assert rest == 100_000


# --- over HTTP, through the adapter -----------------------------------------------------------------


@pytest.fixture
def provider(sandbox_server: SandboxProcess) -> SandboxProvider:
    return sandbox_server.provider()


def test_the_adapter_fetches_the_days_report_over_http_and_parses_it(sandbox_server, provider):
    sandbox_server.configure(fee_bps=290, fee_fixed=30)
    charges = [
        provider.authorize(charge_request(amount=1_000 + i, reference=f"payment-{i}")) for i in range(5)
    ]
    today = datetime.now(UTC).date()
    with provider.settlement_report(day=today) as report:
        assert report.source == SettlementReportSource.API and report.path.exists()
        lines = list(report.lines())
    assert [x.psp_reference for x in lines[:-1]] == [c.id for c in charges]
    rule = FeeRule(bps=290, fixed=30)
    assert all(x.fee == rule.fee(x.gross, x.currency) for x in lines[:-1])
    assert lines[-1].line_type == SettlementLineType.PAYOUT and lines[-1].net == sum(
        x.net for x in lines[:-1]
    )


def test_faults_and_corrections_arrive_as_new_versions_over_http(sandbox_server, provider):
    for i in range(8):
        provider.authorize(charge_request(amount=2_000 + i, reference=f"payment-{i}"))
    today = datetime.now(UTC).date()
    with provider.settlement_report(day=today) as clean:
        clean_lines = list(clean.lines())
    sandbox_server.configure(seed=5, settlement_faults={"payout_mismatch": 1, "duplicate_line": 1})
    published = sandbox_server.request("POST", f"/_sandbox/settlement_reports/{today}").json()
    assert published["version"] == 2

    with provider.settlement_report(day=today) as faulty:
        assert faulty.version == 2 and faulty.checksum != clean.checksum
        with pytest.raises(SettlementReportError, match="does not add up"):
            list(faulty.lines())
        lines = list(faulty.lines(allow_payout_mismatch=True))
    assert len(lines) == len(clean_lines) + 1
    assert lines[-1].net != lines[-1].batch_net

    with provider.settlement_report(day=today, version=1) as again:
        assert again.checksum == clean.checksum  # an old version never changes
    listed = sandbox_server.request("GET", f"/v1/settlement_reports/{today}").json()["data"]
    assert [v["version"] for v in listed] == [1, 2]
    bad = sandbox_server.request("GET", f"/v1/settlement_reports/{today}.csv", params={"version": "two"})
    assert bad.status_code == 400
    faults = sandbox_server.request("GET", f"/_sandbox/settlement_reports/{today}").json()["data"]
    assert [sorted(f["kind"] for f in v["faults"]) for v in faults] == [
        [],
        ["duplicate_line", "payout_mismatch"],
    ]


def test_a_version_that_does_not_exist_is_a_request_error(sandbox_server, provider):
    from payments.providers import ProviderRequestError

    provider.authorize(charge_request())
    with pytest.raises(ProviderRequestError) as caught:
        provider.settlement_report(day=datetime.now(UTC).date(), version=9)
    assert caught.value.code == "report_not_found"


def test_the_report_needs_the_api_key(sandbox_server):
    today = datetime.now(UTC).date()
    response = sandbox_server.request(
        "GET", f"/v1/settlement_reports/{today}.csv", headers={"Authorization": ""}
    )
    assert response.status_code == 401


def test_a_lost_webhook_charge_is_in_the_report_and_retrievable(sandbox_server, provider, webhook_receiver):
    sandbox_server.configure(lost_webhooks=1)
    lost = provider.authorize(charge_request("pm_card_async", reference="payment-lost"))
    announced = provider.authorize(charge_request("pm_card_async", reference="payment-announced"))
    webhook_receiver.wait_for("charge.succeeded", object_id=announced.id)
    assert provider.retrieve_charge(charge_id=lost.id).status == "succeeded"
    assert webhook_receiver.received("charge.succeeded", object_id=lost.id) == []
    states = {
        e["data"]["object"]["id"]: e["state"]
        for e in sandbox_server.events()
        if e["type"] == "charge.succeeded"
    }
    assert states[lost.id] == "suppressed"
    with provider.settlement_report(day=datetime.now(UTC).date()) as report:
        assert "payment-lost" in {x.merchant_reference for x in report.lines()}
