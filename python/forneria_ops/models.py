"""The sidecar's own tables (the shop's tables stay untouched and unmanaged).

``EjecucionTarea`` keeps the last outcome of every job per database, so operators (admin), the
health check ("when did alerts last run?") and the daily plan can see it without parsing logs.
"""

from __future__ import annotations

from django.db import models


class EjecucionTarea(models.Model):
    """Last run of one job (``generar_alertas``, ``backup_database``…) on one database alias."""

    tarea = models.CharField("tarea", max_length=64)
    base_datos = models.CharField("base de datos", max_length=64, default="default")
    ultimo_inicio = models.DateTimeField("último inicio", null=True, blank=True)
    ultimo_fin = models.DateTimeField("último fin", null=True, blank=True)
    ultimo_exito = models.DateTimeField("último éxito", null=True, blank=True)
    ultimo_fallo = models.DateTimeField("último fallo", null=True, blank=True)
    ultimo_error = models.TextField("último error", blank=True, default="")
    duracion_ms = models.FloatField("duración (ms)", null=True, blank=True)
    resumen = models.JSONField("resumen", default=dict, blank=True)
    ejecuciones = models.PositiveBigIntegerField("ejecuciones", default=0)
    fallos = models.PositiveBigIntegerField("fallos", default=0)

    class Meta:
        verbose_name = "ejecución de tarea"
        verbose_name_plural = "ejecuciones de tareas"
        constraints = [
            models.UniqueConstraint(fields=["tarea", "base_datos"], name="forneria_ops_tarea_bd")
        ]
        ordering = ["tarea", "base_datos"]

    def __str__(self) -> str:
        return f"{self.tarea} ({self.base_datos})"

    @property
    def ultimo_ok(self) -> bool:
        """Whether the latest finished run succeeded."""
        if self.ultimo_exito is None:
            return False
        return self.ultimo_fallo is None or self.ultimo_exito >= self.ultimo_fallo
