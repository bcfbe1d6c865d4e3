from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SealingConfig(AppConfig):
    name = "sealing"
    verbose_name = _("Sealed reports")
