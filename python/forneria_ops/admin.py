from django.contrib import admin

from forneria_ops.models import EjecucionTarea


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
