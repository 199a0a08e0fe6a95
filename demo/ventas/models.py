# ruff: noqa: DJ001 - the columns are nullable VARCHARs in the shop's schema; mirror them.
"""Unmanaged models over the shop's tables, as the shop's own ``ventas`` app declares them.

Why unmanaged: in the shop the tables come from SQL scripts, not migrations; here they come from
``ventas/schema/*.sql`` (see ``ventas.schema.create_schema``). Table and column names are exact,
so ORM code written against the shop (``ventas.legacy``) runs unchanged on these.
"""

from django.db import models

ESTADOS_LOTE = [
    ("activo", "activo"),
    ("agotado", "agotado"),
    ("vencido", "vencido"),
    ("en_merma", "en_merma"),
]
ORIGENES_LOTE = [
    ("compra", "compra"),
    ("produccion_propia", "produccion_propia"),
    ("ajuste_manual", "ajuste_manual"),
]
TIPOS_ALERTA = [("verde", "verde"), ("amarilla", "amarilla"), ("roja", "roja")]
ESTADOS_PAGO = [
    ("pendiente", "pendiente"),
    ("pagado", "pagado"),
    ("parcial", "parcial"),
    ("atrasado", "atrasado"),
    ("cancelado", "cancelado"),
]
UNIDADES = [("unidad", "unidad"), ("kg", "kg"), ("g", "g"), ("l", "l"), ("ml", "ml")]


class Categorias(models.Model):
    nombre = models.CharField(max_length=100, blank=True, null=True)
    descripcion = models.CharField(max_length=200, blank=True, null=True)

    class Meta:
        managed = False
        db_table = "categorias"

    def __str__(self) -> str:
        return self.nombre or ""


class Nutricional(models.Model):
    calorias = models.IntegerField(blank=True, null=True)
    proteinas = models.DecimalField(max_digits=5, decimal_places=2, blank=True, null=True)
    carbohidratos = models.DecimalField(max_digits=5, decimal_places=2, blank=True, null=True)
    azucares = models.DecimalField(max_digits=10, decimal_places=2, blank=True, null=True)
    sodio = models.DecimalField(max_digits=10, decimal_places=2, blank=True, null=True)
    grasas = models.DecimalField(max_digits=5, decimal_places=2, blank=True, null=True)

    class Meta:
        managed = False
        db_table = "nutricional"

    def __str__(self) -> str:
        return f"nutricional {self.pk}"


class Proveedor(models.Model):
    nombre = models.CharField(max_length=150)
    rut = models.CharField(unique=True, max_length=12, blank=True, null=True)
    contacto = models.CharField(max_length=100, blank=True, null=True)
    telefono = models.CharField(max_length=20, blank=True, null=True)
    email = models.CharField(max_length=100, blank=True, null=True)
    direccion = models.CharField(max_length=200, blank=True, null=True)
    ciudad = models.CharField(max_length=100, blank=True, null=True)
    region = models.CharField(max_length=100, blank=True, null=True)
    estado = models.CharField(
        max_length=8, choices=[("activo", "activo"), ("inactivo", "inactivo")], default="activo"
    )
    notas = models.TextField(blank=True, null=True)
    creado = models.DateTimeField(blank=True, null=True)
    modificado = models.DateTimeField(blank=True, null=True)
    eliminado = models.DateTimeField(blank=True, null=True)

    class Meta:
        managed = False
        db_table = "proveedor"

    def __str__(self) -> str:
        return self.nombre


class Productos(models.Model):
    nombre = models.CharField(max_length=100)
    descripcion = models.CharField(max_length=300, blank=True, null=True)
    marca = models.CharField(max_length=100, blank=True, null=True)
    precio = models.DecimalField(max_digits=10, decimal_places=2)
    caducidad = models.DateField(blank=True, null=True)
    elaboracion = models.DateField(blank=True, null=True)
    tipo = models.CharField(max_length=100, blank=True, null=True)
    stock_actual = models.IntegerField(blank=True, null=True)
    stock_minimo = models.IntegerField(blank=True, null=True)
    stock_maximo = models.IntegerField(blank=True, null=True)
    presentacion = models.CharField(max_length=100, blank=True, null=True)
    formato = models.CharField(max_length=100, blank=True, null=True)
    creado = models.DateTimeField(blank=True, null=True)
    modificado = models.DateTimeField(blank=True, null=True)
    eliminado = models.DateTimeField(blank=True, null=True)
    categorias = models.ForeignKey(
        Categorias, models.DO_NOTHING, db_column="categorias_id", related_name="productos"
    )
    nutricional = models.ForeignKey(
        Nutricional, models.DO_NOTHING, db_column="nutricional_id", related_name="productos"
    )
    cantidad = models.DecimalField(max_digits=10, decimal_places=3, default=0)
    estado_merma = models.CharField(max_length=20, default="activo")
    motivo_merma = models.TextField(blank=True, null=True)
    fecha_merma = models.DateTimeField(blank=True, null=True)
    cantidad_merma = models.IntegerField(blank=True, null=True, default=0)
    unidad_stock = models.CharField(max_length=6, choices=UNIDADES, default="unidad")
    unidad_venta = models.CharField(max_length=6, choices=UNIDADES, default="unidad")
    precio_por_unidad_venta = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        managed = False
        db_table = "productos"

    def __str__(self) -> str:
        return self.nombre


class FacturaProveedor(models.Model):
    numero_factura = models.CharField(unique=True, max_length=50)
    fecha_factura = models.DateField()
    fecha_vencimiento = models.DateField(blank=True, null=True)
    fecha_recepcion = models.DateField(blank=True, null=True)
    subtotal_sin_iva = models.DecimalField(max_digits=10, decimal_places=2, blank=True, null=True)
    descuento = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    total_iva = models.DecimalField(max_digits=10, decimal_places=2, blank=True, null=True)
    total_con_iva = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    estado_pago = models.CharField(max_length=9, choices=ESTADOS_PAGO, default="pendiente")
    observaciones = models.TextField(blank=True, null=True)
    creado = models.DateTimeField(blank=True, null=True)
    modificado = models.DateTimeField(blank=True, null=True)
    eliminado = models.DateTimeField(blank=True, null=True)
    proveedor = models.ForeignKey(
        Proveedor, models.DO_NOTHING, db_column="proveedor_id", related_name="facturas"
    )

    class Meta:
        managed = False
        db_table = "factura_proveedor"

    def __str__(self) -> str:
        return self.numero_factura


class DetalleFacturaProveedor(models.Model):
    cantidad = models.IntegerField()
    precio_unitario = models.DecimalField(max_digits=10, decimal_places=2)
    descuento_pct = models.DecimalField(
        max_digits=5, decimal_places=2, blank=True, null=True, default=0
    )
    subtotal = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    fecha_vencimiento_producto = models.DateField(blank=True, null=True)
    lote = models.CharField(max_length=50, blank=True, null=True)
    observaciones = models.CharField(max_length=300, blank=True, null=True)
    factura_proveedor = models.ForeignKey(
        FacturaProveedor,
        models.DO_NOTHING,
        db_column="factura_proveedor_id",
        related_name="detalles",
    )
    productos = models.ForeignKey(
        Productos, models.DO_NOTHING, db_column="productos_id", related_name="detalles_factura"
    )

    class Meta:
        managed = False
        db_table = "detalle_factura_proveedor"

    def __str__(self) -> str:
        return f"detalle {self.pk} de factura {self.factura_proveedor_id}"


class Lotes(models.Model):
    productos = models.ForeignKey(
        Productos, models.DO_NOTHING, db_column="productos_id", related_name="lotes"
    )
    detalle_factura_proveedor = models.ForeignKey(
        DetalleFacturaProveedor,
        models.DO_NOTHING,
        db_column="detalle_factura_proveedor_id",
        blank=True,
        null=True,
        related_name="lotes",
    )
    numero_lote = models.CharField(max_length=50, blank=True, null=True)
    cantidad = models.DecimalField(max_digits=10, decimal_places=3, default=0)
    cantidad_inicial = models.DecimalField(max_digits=10, decimal_places=3)
    fecha_elaboracion = models.DateField(blank=True, null=True)
    fecha_caducidad = models.DateField()
    fecha_recepcion = models.DateTimeField()
    origen = models.CharField(max_length=17, choices=ORIGENES_LOTE, default="produccion_propia")
    estado = models.CharField(max_length=8, choices=ESTADOS_LOTE, default="activo")
    creado = models.DateTimeField(blank=True, null=True)
    modificado = models.DateTimeField(blank=True, null=True)

    class Meta:
        managed = False
        db_table = "lotes"

    def __str__(self) -> str:
        return self.numero_lote or f"lote {self.pk}"


class Alertas(models.Model):
    tipo_alerta = models.CharField(max_length=8, choices=TIPOS_ALERTA)
    mensaje = models.CharField(max_length=255)
    fecha_generada = models.DateTimeField(blank=True, null=True)
    estado = models.CharField(max_length=20, blank=True, null=True, default="activa")
    productos = models.ForeignKey(
        Productos,
        models.DO_NOTHING,
        db_column="productos_id",
        blank=True,
        null=True,
        related_name="alertas",
    )
    factura_proveedor = models.ForeignKey(
        FacturaProveedor,
        models.DO_NOTHING,
        db_column="factura_proveedor_id",
        blank=True,
        null=True,
        related_name="alertas",
    )

    class Meta:
        managed = False
        db_table = "alertas"

    def __str__(self) -> str:
        return self.mensaje


class HistorialMerma(models.Model):
    producto = models.ForeignKey(
        Productos, models.DO_NOTHING, db_column="producto_id", related_name="historial_merma"
    )
    cantidad_merma = models.DecimalField(max_digits=10, decimal_places=3)
    motivo_merma = models.TextField()
    fecha_merma = models.DateTimeField()
    activo = models.BooleanField(default=True)
    creado = models.DateTimeField(blank=True, null=True)
    modificado = models.DateTimeField(blank=True, null=True)

    class Meta:
        managed = False
        db_table = "historial_merma"

    def __str__(self) -> str:
        return f"merma {self.pk} de producto {self.producto_id}"


class MovimientosInventario(models.Model):
    tipo_movimiento = models.CharField(
        max_length=7, choices=[("entrada", "entrada"), ("salida", "salida")]
    )
    cantidad = models.IntegerField()
    fecha = models.DateTimeField()
    productos = models.ForeignKey(
        Productos, models.DO_NOTHING, db_column="productos_id", related_name="movimientos"
    )
    origen = models.CharField(max_length=50, blank=True, null=True)
    referencia_id = models.IntegerField(blank=True, null=True)
    tipo_referencia = models.CharField(max_length=50, blank=True, null=True)

    class Meta:
        managed = False
        db_table = "movimientos_inventario"

    def __str__(self) -> str:
        return f"{self.tipo_movimiento} {self.cantidad} de producto {self.productos_id}"
