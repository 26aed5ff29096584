"""The client's address of a request, the one rule for the audit log and the admin login lockout."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or, behind NUM_PROXIES trusted proxies, the address they saw in X-Forwarded-For.

    Uses the same NUM_PROXIES as the API's throttles; a header a client forged beyond the trusted
    hops is ignored, and anything that is not an IP address gives None.
    """
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    address = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            address = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
