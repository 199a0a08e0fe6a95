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


class HistorialBackup(models.Model):
    """One backup attempt: what the manifest beside the file says, or why it failed.

    The file and its JSON manifest are the source of truth (a restore at 3 a.m. needs nothing
    but them); this table mirrors them for the admin, the health check ("age of the last good
    backup") and ``listar_backups`` on machines that keep the history.
    """

    class Tipo(models.TextChoices):
        COMPLETO = "full", "completo"
        DIFERENCIAL = "diff", "diferencial"

    class Estado(models.TextChoices):
        OK = "ok", "correcto"
        FALLIDO = "fallido", "fallido"
        ELIMINADO = "eliminado", "eliminado por retención"

    base_datos = models.CharField("alias", max_length=64, default="default")
    nombre_bd = models.CharField("base de datos", max_length=255, blank=True, default="")
    motor = models.CharField("motor", max_length=16, blank=True, default="")
    tipo = models.CharField("tipo", max_length=8, choices=Tipo.choices, default=Tipo.COMPLETO)
    estado = models.CharField("estado", max_length=16, choices=Estado.choices)
    archivo = models.CharField("archivo", max_length=500, blank=True, default="")
    base = models.CharField("backup base", max_length=500, blank=True, default="")
    inicio = models.DateTimeField("inicio")
    fin = models.DateTimeField("fin", null=True, blank=True)
    duracion_s = models.FloatField("duración (s)", null=True, blank=True)
    tablas = models.PositiveIntegerField("tablas", default=0)
    filas = models.PositiveBigIntegerField("filas", default=0)
    bytes_sin_comprimir = models.PositiveBigIntegerField("bytes sin comprimir", default=0)
    bytes_comprimidos = models.PositiveBigIntegerField("bytes comprimidos", default=0)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True, default="")
    verificado = models.BooleanField("verificado", null=True, blank=True)
    error = models.TextField("error", blank=True, default="")
    manifiesto = models.JSONField("manifiesto", default=dict, blank=True)

    class Meta:
        verbose_name = "backup"
        verbose_name_plural = "historial de backups"
        ordering = ["-inicio"]
        indexes = [
            models.Index(fields=["base_datos", "estado", "-inicio"], name="forneria_ops_bk_ultimo")
        ]

    def __str__(self) -> str:
        name = self.nombre_bd or self.base_datos
        return f"{self.get_tipo_display()} {name} {self.inicio:%Y-%m-%d %H:%M}"
