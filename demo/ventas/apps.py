from django.apps import AppConfig


class VentasConfig(AppConfig):
    name = "ventas"
    label = "ventas"
    verbose_name = "ventas (mirror of the shop's app)"
    default_auto_field = "django.db.models.AutoField"
