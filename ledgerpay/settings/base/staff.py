"""The back office's staff security: admin login lockout (django-axes) and the CSP (django-csp)."""

from datetime import timedelta

from csp import constants as csp_constants

from .environment import *
from .environment import _secret  # noqa: F401

# --- Back office: staff login lockout, content security policy ---------------
# django-axes watches the admin login only (AXES_ONLY_ADMIN_SITE): the API's JWT login has its own
# throttle (accounts.throttles). Failures are counted per username and client address, in the database.
AXES_ONLY_ADMIN_SITE = True
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.http.client_ip"
AXES_USERNAME_FORM_FIELD = "username"
AXES_VERBOSE = False
# A CSP on every page that needs no inline script or style: the admin's own pages load only their
# static files; the one inline script and style (the date-range filter's) carry the per-request nonce.
# Swagger UI (/api/docs/) is left out: it is the one page that loads scripts from a CDN by design.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'", csp_constants.NONCE],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
