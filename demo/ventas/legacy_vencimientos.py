"""The expiry rules written the way a Django app writes them: plain ORM, row by row.

Why it exists: the benchmark times forneria-ops against it in the same run, and the tests check
that both leave the same rows. It follows DOMAIN.md and the issue rule by rule (see
``docs/vencimientos.md``) — it is *not* the shop's own ``verificar_vencimientos``, which looks only
at ``productos.caducidad``, flips ``estado_merma`` to ``'vencido'`` and crashes on DECIMAL stock.
What makes it the usual ORM code: one query to find the expired lots, then for each lot and each
product its own ``save()``/``create()`` and lookups (the next lot, the alerts), all inside one
``transaction.atomic`` (the rules ask for one transaction; it also spares a commit per row).

The rules: an ``activo`` lot with stock dated before ``hoy``, of a product on sale, goes to
waste (``vencido``, ``cantidad`` 0, one ``historial_merma`` row and one ``salida`` movement
``merma``/``lote``) and its product's ``cantidad`` drops by as much; a product that keeps stock
takes its earliest good lot's date, one left without stock goes to ``en_merma``; a product without
lots past its ``caducidad`` with stock goes to ``en_merma`` with its own row and movement
(``merma``/``producto``); expiry alerts of touched products and low-stock alerts of wasted ones
are resolved. Whole units for INT columns: half away from zero, at least 1.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from ventas.models import Alertas, HistorialMerma, Lotes, MovimientosInventario, Productos

_EXPIRY = re.compile(r" (vence en -?\d+ días - (URGENTE|PRECAUCIÓN|OK)|YA VENCIÓ hace -?\d+ días)$")
_LOW_STOCK = re.compile(r" - STOCK BAJO: -?\d+(\.\d+)? unidades \(mínimo: -?\d+\)$")


def _dmy(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def _lote_txt(lote: Lotes) -> str:
    numero = (lote.numero_lote or "").strip() or "sin número"
    return f"{numero} (id {lote.pk})"


def _unidades(cantidad: Decimal) -> int:
    if cantidad <= 0:
        return 0
    return max(int(cantidad.quantize(Decimal(1), rounding=ROUND_HALF_UP)), 1)


def _a_merma(producto: Productos, motivo: str, cantidad: Decimal, ahora, using: str) -> None:
    producto.cantidad_merma = _unidades(cantidad)
    producto.cantidad = Decimal(0)
    producto.caducidad = None
    producto.elaboracion = None
    producto.estado_merma = "en_merma"
    producto.motivo_merma = motivo
    producto.fecha_merma = ahora
    producto.modificado = ahora
    producto.save(
        using=using,
        update_fields=[
            "cantidad_merma",
            "cantidad",
            "caducidad",
            "elaboracion",
            "estado_merma",
            "motivo_merma",
            "fecha_merma",
            "modificado",
        ],
    )


def _registrar(producto_id, cantidad, motivo, referencia, tipo, ahora, using) -> None:
    HistorialMerma.objects.using(using).create(
        producto_id=producto_id,
        cantidad_merma=cantidad,
        motivo_merma=motivo,
        fecha_merma=ahora,
        activo=True,
        creado=ahora,
        modificado=ahora,
    )
    MovimientosInventario.objects.using(using).create(
        tipo_movimiento="salida",
        cantidad=_unidades(cantidad),
        fecha=ahora,
        productos_id=producto_id,
        origen="merma",
        referencia_id=referencia,
        tipo_referencia=tipo,
    )


def verificar_vencimientos(hoy: date, *, using: str = "default") -> dict:
    """Move expired stock to waste on ``using`` for ``hoy``; returns the run's totals."""
    ahora = timezone.now().replace(microsecond=0)
    totales = {
        "lots_expired": 0,
        "products_updated": 0,
        "products_wasted": 0,
        "history_rows": 0,
        "alerts_resolved": 0,
        "quantity": Decimal(0),
        "value": Decimal(0),
    }
    with transaction.atomic(using=using):
        vencidos = (
            Lotes.objects.using(using)
            .select_related("productos")
            .filter(
                estado="activo",
                cantidad__gt=0,
                fecha_caducidad__lt=hoy,
                productos__eliminado__isnull=True,
                productos__estado_merma="activo",
            )
            .order_by("fecha_caducidad", "productos_id", "id")
        )
        tocados: dict[int, tuple[Productos, list[Lotes]]] = {}
        for lote in vencidos:
            producto, lotes = tocados.setdefault(lote.productos_id, (lote.productos, []))
            cantidad = lote.cantidad
            motivo = f"Vencimiento: lote {_lote_txt(lote)} venció el {_dmy(lote.fecha_caducidad)}"
            _registrar(producto.pk, cantidad, motivo, lote.pk, "lote", ahora, using)
            producto.cantidad = max(producto.cantidad - cantidad, Decimal(0))
            lote.estado = "vencido"
            lote.cantidad = Decimal(0)
            lote.modificado = ahora
            lote.save(using=using, update_fields=["estado", "cantidad", "modificado"])
            lote.cantidad = cantidad  # what went to waste, for the product's motivo
            lotes.append(lote)
            totales["lots_expired"] += 1
            totales["history_rows"] += 1
            totales["quantity"] += cantidad
            totales["value"] += cantidad * producto.precio_por_unidad_venta

        desechados = set()
        for pk in sorted(tocados):
            producto, lotes = tocados[pk]
            siguiente = (
                Lotes.objects.using(using)
                .filter(productos_id=pk, estado="activo", cantidad__gt=0, fecha_caducidad__gte=hoy)
                .order_by("fecha_caducidad", "fecha_recepcion")
                .first()
            )
            if siguiente is not None:
                producto.caducidad = siguiente.fecha_caducidad
                producto.modificado = ahora
                producto.save(using=using, update_fields=["cantidad", "caducidad", "modificado"])
                totales["products_updated"] += 1
                continue
            lotes.sort(key=lambda lote: (lote.fecha_caducidad, lote.pk))
            nombres = [f"{_lote_txt(lote)} del {_dmy(lote.fecha_caducidad)}" for lote in lotes]
            motivo = "Vencimiento: sin stock tras vencer sus lotes " + ", ".join(nombres[:10])
            if len(nombres) > 10:
                motivo += f" y {len(nombres) - 10} más"
            _a_merma(
                producto, motivo, sum((lote.cantidad for lote in lotes), Decimal(0)), ahora, using
            )
            desechados.add(pk)
            totales["products_wasted"] += 1

        sin_lotes = (
            Productos.objects.using(using)
            .filter(
                eliminado__isnull=True,
                estado_merma="activo",
                caducidad__lt=hoy,
                cantidad__gt=0,
                lotes__isnull=True,
            )
            .order_by("id")
        )
        for producto in sin_lotes:
            cantidad = producto.cantidad
            motivo = f"Vencimiento: producto venció el {_dmy(producto.caducidad)}"
            _a_merma(producto, motivo, cantidad, ahora, using)
            _registrar(producto.pk, cantidad, motivo, producto.pk, "producto", ahora, using)
            tocados[producto.pk] = (producto, [])
            desechados.add(producto.pk)
            totales["products_wasted"] += 1
            totales["history_rows"] += 1
            totales["quantity"] += cantidad
            totales["value"] += cantidad * producto.precio_por_unidad_venta

        for pk in sorted(tocados):
            abiertas = Alertas.objects.using(using).filter(
                productos_id=pk, estado__in=["activa", "ignorada"]
            )
            for alerta in abiertas:
                es_vencimiento = _EXPIRY.search(alerta.mensaje) and not _LOW_STOCK.search(
                    alerta.mensaje
                )
                if es_vencimiento or (pk in desechados and _LOW_STOCK.search(alerta.mensaje)):
                    alerta.estado = "resuelta"
                    alerta.save(using=using, update_fields=["estado"])
                    totales["alerts_resolved"] += 1
    return totales
