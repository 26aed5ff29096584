"""The WSGI application gunicorn serves in the bench: the project's, with any --whatif patches applied."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerpay.settings.base")

from bench import whatif

whatif.apply_settings()

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
whatif.apply_code()
