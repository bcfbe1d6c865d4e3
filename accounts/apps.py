from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts, keys and audit")

    def ready(self) -> None:
        from accounts import audit, receivers, schema  # noqa: F401  (audit: its system check)
