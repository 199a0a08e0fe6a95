from django.apps import AppConfig


class ForneriaOpsConfig(AppConfig):
    name = "forneria_ops"
    verbose_name = "forneria-ops"
    default_auto_field = "django.db.models.BigAutoField"
