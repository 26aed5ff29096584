"""LedgerPay settings, every value read from the environment (see .env.example).

When DATABASE_URL is unset the project runs on its embedded PostgreSQL; when
CELERY_BROKER_URL is unset Celery uses kombu's filesystem transport; when
REDIS_URL is unset the cache is local memory. Production sets all three.

Importing this module has no side effect: it starts no database (manage.py, `make run` and the test
suite do) and creates no folder (the Celery app creates the broker's on first use). With DEBUG off every
secret must be set; a missing one is an ImproperlyConfigured naming the variable.

Split by concern, each module reading its own variables: environment (folders, DEBUG, secrets), web (Django
itself), tasks (Celery), api (DRF, JWT, schema), staff (admin security), money (ledger, payments,
reconciliation), logs. The order below is the order they depend on each other.
"""

from .api import *
from .environment import *
from .logs import *
from .money import *
from .staff import *
from .tasks import *
from .web import *
