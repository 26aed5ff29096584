from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Identity and access"

    def ready(self) -> None:
        from .permissions import staff_group_permissions_sync

        post_migrate.connect(
            staff_group_permissions_sync, dispatch_uid="accounts.staff_group_permissions_sync"
        )
