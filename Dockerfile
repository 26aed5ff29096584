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
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Static files at build time. The settings need a SECRET_KEY when DEBUG is off, and
# DATABASE_URL / CELERY_BROKER_URL set so that they neither start the embedded
# PostgreSQL nor create the filesystem broker; nothing connects to either here.
# These values exist only for this one command and are not kept in the image.
RUN SECRET_KEY=build-time-dummy-secret-key-not-used-at-runtime \
    DATABASE_URL=postgres://build:build@127.0.0.1:5432/build \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput

# Writable place for celery beat's schedule (a named volume in docker-compose.yml
# takes this folder's ownership on first use).
RUN mkdir -p /var/lib/ledgerpay/beat \
    && chown -R ledgerpay:ledgerpay /var/lib/ledgerpay

USER ledgerpay

EXPOSE 8000

CMD ["gunicorn", "ledgerpay.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-", "--error-logfile", "-"]
