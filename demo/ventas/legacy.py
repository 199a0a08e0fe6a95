"""The shop's alert generation as it runs today, in plain Django ORM (the competitor).

Why it exists: benchmarks time forneria-ops against what the shop runs now, and tests take the
message formats from here. It follows DOMAIN.md rule by rule and keeps the app's behaviour,
bugs included:

- one query (or more) per product and per invoice, no transaction, no lock;
- expiry looks only at ``productos.caducidad``, never at the lots;
- an existing expiry alert is found by the substring ``'vence'``, which ``'YA VENCIÓ'`` lacks, so
  every run adds another copy of each already-expired alert;
- alerts of paid, cancelled or deleted invoices and of products that went to waste, were deleted
  or ran out of stock are never closed (only low-stock alerts are resolved);
- alerts marked ``ignorada`` are not looked at, so the condition raises a new one;
- "today" defaults to the UTC date (``timezone.now().date()``), not the local one;
- the supplier is loaded with one extra query per invoice.

Deliberate differences from the app, needed to run it in a test harness:

- an active product with stock and a NULL ``caducidad`` is skipped instead of aborting the whole
  run with a TypeError (the app crashes there; generated data has such products on purpose);
- ``using`` selects the database alias (the app always uses ``default``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils import timezone

from ventas.models import Alertas, FacturaProveedor, Productos

STOCK_MINIMO_POR_DEFECTO = 5
ESTADOS_FACTURA_PENDIENTE = ("pendiente", "parcial")


def mensaje_vencimiento(nombre: str, dias: int) -> tuple[str, str]:
    """(tipo_alerta, mensaje) of a product expiring in ``dias`` days (negative: expired)."""
    if dias < 0:
        return "roja", f"{nombre} YA VENCIÓ hace {-dias} días"
    if dias <= 13:
        return "roja", f"{nombre} vence en {dias} días - URGENTE"
    if dias <= 29:
        return "amarilla", f"{nombre} vence en {dias} días - PRECAUCIÓN"
    return "verde", f"{nombre} vence en {dias} días - OK"


def mensaje_stock_bajo(nombre: str, cantidad: Decimal | str, minimo: int) -> tuple[str, str]:
    """(tipo_alerta, mensaje) of low stock; ``cantidad`` as stored, with its three decimals."""
    return "roja", f"{nombre} - STOCK BAJO: {cantidad} unidades (mínimo: {minimo})"


def mensaje_factura(
    numero: str, proveedor: str, total: Decimal | str, dias: int
) -> tuple[str, str]:
    """(tipo_alerta, mensaje) of a supplier invoice due in ``dias`` days (negative: overdue)."""
    if dias < 0:
        return "roja", f"Factura {numero} de {proveedor} VENCIDA hace {-dias} días - ${total}"
    if dias <= 7:
        tipo = "roja"
    elif dias <= 30:
        tipo = "amarilla"
    else:
        tipo = "verde"
    return tipo, f"Factura {numero} de {proveedor} vence en {dias} días - ${total}"


def _crear_o_actualizar(existente, using: str, tipo: str, mensaje: str, **destino) -> bool:
    """The app's upsert: change in place when colour or message differ, else insert.

    Returns True when something was written (the app counts those).
    """
    if existente is not None:
        if existente.tipo_alerta == tipo and existente.mensaje == mensaje:
            return False
        existente.tipo_alerta = tipo
        existente.mensaje = mensaje
        existente.fecha_generada = timezone.now()
        existente.save(using=using, update_fields=["tipo_alerta", "mensaje", "fecha_generada"])
        return True
    Alertas.objects.using(using).create(
        tipo_alerta=tipo,
        mensaje=mensaje,
        fecha_generada=timezone.now(),
        estado="activa",
        **destino,
    )
    return True


def generar_alertas_automaticas(hoy: date | None = None, *, using: str = "default") -> dict:
    """Run the app's alert rules once; return counts of alerts created or changed.

    Counts: expiry alerts under their colour, low-stock alerts under ``stock_bajo``, invoice
    alerts under ``facturas_vencidas``, and ``total`` as their sum.
    """
    if hoy is None:
        hoy = timezone.now().date()  # the app's bug: the UTC date, not the shop's
    conteo = {"roja": 0, "amarilla": 0, "verde": 0, "stock_bajo": 0, "facturas_vencidas": 0}

    productos = Productos.objects.using(using).filter(eliminado__isnull=True, estado_merma="activo")
    for producto in productos:
        alertas = Alertas.objects.using(using).filter(productos=producto, estado="activa")
        if producto.cantidad > 0:
            if producto.caducidad is None:
                continue  # the app raises TypeError here and stops the whole run
            dias = (producto.caducidad - hoy).days
            tipo, mensaje = mensaje_vencimiento(producto.nombre, dias)
            existente = alertas.filter(mensaje__contains="vence").first()
            if _crear_o_actualizar(existente, using, tipo, mensaje, productos=producto):
                conteo[tipo] += 1

        minimo = (
            producto.stock_minimo if producto.stock_minimo is not None else STOCK_MINIMO_POR_DEFECTO
        )
        if producto.cantidad <= minimo:
            tipo, mensaje = mensaje_stock_bajo(producto.nombre, producto.cantidad, minimo)
            existente = alertas.filter(mensaje__contains="STOCK BAJO").first()
            if _crear_o_actualizar(existente, using, tipo, mensaje, productos=producto):
                conteo["stock_bajo"] += 1
        else:
            alertas.filter(mensaje__contains="STOCK BAJO").update(estado="resuelta")

    facturas = FacturaProveedor.objects.using(using).filter(
        eliminado__isnull=True,
        estado_pago__in=ESTADOS_FACTURA_PENDIENTE,
        fecha_vencimiento__isnull=False,
    )
    for factura in facturas:
        dias = (factura.fecha_vencimiento - hoy).days
        tipo, mensaje = mensaje_factura(
            factura.numero_factura, factura.proveedor.nombre, factura.total_con_iva, dias
        )
        existente = (
            Alertas.objects.using(using).filter(factura_proveedor=factura, estado="activa").first()
        )
        if _crear_o_actualizar(existente, using, tipo, mensaje, factura_proveedor=factura):
            conteo["facturas_vencidas"] += 1

    conteo["total"] = sum(conteo.values())
    return conteo
