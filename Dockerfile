# LedgerPay application image: api (gunicorn), celery worker and beat, outbox relay
# and the sandbox card providers all run from it (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles

RUN groupadd --system --gid 10001 ledgerpay \
    && useradd --system --uid 10001 --gid ledgerpay --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin ledgerpay

WORKDIR /app

# Dependencies first, in their own layer, so that a code change does not reinstall them.
# Only the main dependencies: not the `local` extra (embedded PostgreSQL) nor `dev`.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Static files at build time (WhiteNoise serves them). Importing the settings starts nothing and
# connects to nothing. DEBUG=1 for this one command only, so that the settings' development stand-ins
# cover the secrets, which a build must not carry; the output is the same as with DEBUG off.
RUN DEBUG=1 python manage.py collectstatic --noinput

# Writable place for celery beat's schedule (a named volume in docker-compose.yml
# takes this folder's ownership on first use).
RUN mkdir -p /var/lib/ledgerpay/beat \
    && chown -R ledgerpay:ledgerpay /var/lib/ledgerpay

USER ledgerpay

EXPOSE 8000

# Sync workers: WEB_CONCURRENCY of them (gunicorn reads it), 2 per core by default as in `make run`.
CMD ["sh", "-c", "exec gunicorn ledgerpay.wsgi:application --bind 0.0.0.0:8000 \
     --workers ${WEB_CONCURRENCY:-$((2 * $(nproc)))} --timeout ${GUNICORN_TIMEOUT:-30} \
     --backlog ${GUNICORN_BACKLOG:-2048} --access-logfile - --error-logfile -"]
