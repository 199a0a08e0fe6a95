from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("forneria_ops", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="HistorialBackup",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "base_datos",
                    models.CharField(default="default", max_length=64, verbose_name="alias"),
                ),
                (
                    "nombre_bd",
                    models.CharField(
                        blank=True, default="", max_length=255, verbose_name="base de datos"
                    ),
                ),
                (
                    "motor",
                    models.CharField(blank=True, default="", max_length=16, verbose_name="motor"),
                ),
                (
                    "tipo",
                    models.CharField(
                        choices=[("full", "completo"), ("diff", "diferencial")],
                        default="full",
                        max_length=8,
                        verbose_name="tipo",
                    ),
                ),
                (
                    "estado",
                    models.CharField(
                        choices=[
                            ("ok", "correcto"),
                            ("fallido", "fallido"),
                            ("eliminado", "eliminado por retención"),
                        ],
                        max_length=16,
                        verbose_name="estado",
                    ),
                ),
                (
                    "archivo",
                    models.CharField(
                        blank=True, default="", max_length=500, verbose_name="archivo"
                    ),
                ),
                (
                    "base",
                    models.CharField(
                        blank=True, default="", max_length=500, verbose_name="backup base"
                    ),
                ),
                ("inicio", models.DateTimeField(verbose_name="inicio")),
                ("fin", models.DateTimeField(blank=True, null=True, verbose_name="fin")),
                (
                    "duracion_s",
                    models.FloatField(blank=True, null=True, verbose_name="duración (s)"),
                ),
                ("tablas", models.PositiveIntegerField(default=0, verbose_name="tablas")),
                ("filas", models.PositiveBigIntegerField(default=0, verbose_name="filas")),
                (
                    "bytes_sin_comprimir",
                    models.PositiveBigIntegerField(default=0, verbose_name="bytes sin comprimir"),
                ),
                (
                    "bytes_comprimidos",
                    models.PositiveBigIntegerField(default=0, verbose_name="bytes comprimidos"),
                ),
                (
                    "sha256",
                    models.CharField(blank=True, default="", max_length=64, verbose_name="SHA-256"),
                ),
                (
                    "verificado",
                    models.BooleanField(blank=True, null=True, verbose_name="verificado"),
                ),
                ("error", models.TextField(blank=True, default="", verbose_name="error")),
                (
                    "manifiesto",
                    models.JSONField(blank=True, default=dict, verbose_name="manifiesto"),
                ),
            ],
            options={
                "verbose_name": "backup",
                "verbose_name_plural": "historial de backups",
                "ordering": ["-inicio"],
                "indexes": [
                    models.Index(
                        fields=["base_datos", "estado", "-inicio"], name="forneria_ops_bk_ultimo"
                    )
                ],
            },
        ),
    ]
