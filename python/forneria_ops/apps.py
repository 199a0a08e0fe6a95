from django.apps import AppConfig


class ForneriaOpsConfig(AppConfig):
    name = "forneria_ops"
    verbose_name = "forneria-ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from forneria_ops import _core, checks  # noqa: F401  (registers the checks)

        # Django has applied LOGGING by now; make Rust log records follow it.
        _core.reset_logging_cache()
