"""Seed the bench database through the ledger's own services; run by bench.transfers, not by hand.

`python -m bench.seed --users 100 --accounts-per-user 100 --out fixture.json` with DATABASE_URL
pointing at the bench database. Creates the client users (unusable passwords: they authenticate
with JWTs minted here), their customer accounts, and one hot account owned by its own user; funds
every account with deposits from the WORLD system account made by `services.transfer_split_create`
(one balanced transfer per user, so check_ledger holds), and writes ids and access tokens as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ACCOUNT_FUNDING = 100_000_000  # 1,000,000.00 USD each: far more than any run moves out at 0.01
HOT_FUNDING = 10**13  # 100 billion USD: the hot source never runs dry
CURRENCY = "USD"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--accounts-per-user", type=int, default=100)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ledgerpay.settings.base")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from ledger import services
    from ledger.models import Account, AccountKind, TransferKind
    from ledger.services import SystemAccount

    world = services.system_account_get(code=SystemAccount.WORLD, currency=CURRENCY)
    with transaction.atomic():
        users = User.objects.bulk_create(
            [User(email=f"bench-{i}@bench.invalid", password=make_password(None)) for i in range(args.users)]
        )
        hot_user = User.objects.create(email="bench-hot@bench.invalid", password=make_password(None))
        accounts = Account.objects.bulk_create(
            [
                Account(
                    owner=user,
                    currency=CURRENCY,
                    name=f"bench {i}.{j}",
                    kind=AccountKind.LIABILITY,
                    allow_negative=False,
                    accepts_external_transfers=True,  # the load sends to any user's account
                )
                for i, user in enumerate(users)
                for j in range(args.accounts_per_user)
            ]
        )
        hot = services.account_create(owner=hot_user, currency=CURRENCY, name="bench hot source")

    by_user: dict[int, list] = {user.pk: [] for user in users}
    for account in accounts:
        by_user[account.owner_id].append(account)
    for user in users:  # one balanced deposit per user, crediting each of its accounts
        services.transfer_split_create(
            source_id=world.pk,
            credits=[(account.pk, ACCOUNT_FUNDING) for account in by_user[user.pk]],
            currency=CURRENCY,
            kind=TransferKind.DEPOSIT,
            description="bench funding",
        )
    services.transfer_create(
        source_id=world.pk,
        destination_id=hot.pk,
        amount=HOT_FUNDING,
        currency=CURRENCY,
        kind=TransferKind.DEPOSIT,
        description="bench funding (hot source)",
    )

    fixture = {
        "currency": CURRENCY,
        "users": [
            {
                "id": user.pk,
                "token": str(AccessToken.for_user(user)),
                "accounts": [str(account.pk) for account in by_user[user.pk]],
            }
            for user in users
        ],
        "hot": {"id": hot_user.pk, "token": str(AccessToken.for_user(hot_user)), "account": str(hot.pk)},
    }
    args.out.write_text(json.dumps(fixture))
    return 0


if __name__ == "__main__":
    sys.exit(main())
