from django.contrib import admin

from forneria_ops.models import EjecucionTarea, HistorialBackup


@admin.register(EjecucionTarea)
class EjecucionTareaAdmin(admin.ModelAdmin):
    list_display = (
        "tarea",
        "base_datos",
        "ultimo_exito",
        "ultimo_fallo",
        "duracion_ms",
        "ejecuciones",
        "fallos",
    )
    list_filter = ("tarea", "base_datos")
    readonly_fields = [f.name for f in EjecucionTarea._meta.fields]


@admin.register(HistorialBackup)
class HistorialBackupAdmin(admin.ModelAdmin):
    list_display = (
        "inicio",
        "base_datos",
        "tipo",
        "estado",
        "verificado",
        "duracion_s",
        "bytes_comprimidos",
        "archivo",
    )
    list_filter = ("base_datos", "tipo", "estado")
    readonly_fields = [f.name for f in HistorialBackup._meta.fields]
