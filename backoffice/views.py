"""The overview page: today's and 30 days' volumes per currency, what needs a look, as SVG charts."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from core.money import format_amount

from . import selectors
from .charts import column_chart, hbar_chart


def overview(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    today_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = selectors.volumes_since(since=today_start)
    month = selectors.volumes_since(since=today_start - timedelta(days=29))
    rows: list[dict[str, Any]] = []
    for kind in ("payments", "refunds", "transfers"):
        by_currency_today = {v.currency: v for v in today[kind]}
        for volume in month[kind]:
            today_volume = by_currency_today.get(volume.currency)
            rows.append(
                {
                    "kind": kind,
                    "currency": volume.currency,
                    "today_count": today_volume.count if today_volume else 0,
                    "today_total": format_amount(today_volume.total if today_volume else 0, volume.currency),
                    "month_count": volume.count,
                    "month_total": format_amount(volume.total, volume.currency),
                    "month_minor": volume.total,
                }
            )
    # One column chart per currency: captured payments per day over 30 days, zero days included.
    per_currency: dict[str, dict[str, int]] = defaultdict(dict)
    for day_label, code, total in selectors.daily_payment_volumes(days=30, now=now):
        per_currency[code][day_label] = total
    days = [(date.fromordinal(now.date().toordinal() - 29 + i)).isoformat() for i in range(30)]
    daily_charts = [
        {
            "currency": currency,
            "svg": column_chart(
                [(d, totals.get(d, 0)) for d in days],
                caption=f"{currency}: captured per day, max {format_amount(max(totals.values()), currency)}",
            ),
        }
        for currency, totals in sorted(per_currency.items())
    ]
    discrepancies = selectors.open_discrepancies_by_class()
    context = {
        **admin.site.each_context(request),
        "title": "Overview",
        "volume_rows": rows,
        # Bars compare amounts within a currency; each bar is labelled with its currency.
        "month_chart": hbar_chart(
            [
                (f"{r['kind']} {r['currency']}", r["month_minor"], f"{r['month_total']} {r['currency']}")
                for r in rows
            ]
        ),
        "daily_charts": daily_charts,
        "discrepancy_chart": hbar_chart([(name, count, str(count)) for name, count in discrepancies]),
        "discrepancies_total": sum(count for _, count in discrepancies),
        "stuck_payments": selectors.stuck_payments_count(),
        "dead_letters": selectors.dead_letters_waiting_count(),
        "stuck_url": reverse("admin:payments_payment_changelist") + "?stuck=yes",
        "dead_letters_url": reverse("admin:payments_deadletter_changelist") + "?replayed_at__isnull=True",
    }
    return TemplateResponse(request, "admin/overview.html", context)
