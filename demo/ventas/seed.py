"""Deterministic bakery data for tests, the demo and benchmarks.

Why a generator and not a fixture file: benchmarks need the same shop at 200 and at 200,000
products, and tests need every alert band and edge case to exist for a chosen "today". So
``seed()`` writes, for a given ``hoy``:

1. the edge cases first, with fixed ids (returned in ``edges``): each expiry band boundary with
   and without lots, a product whose first-expiring lot (FEFO) differs from ``productos.caducidad``,
   stock exactly at the minimum, the default minimum of 5, NULL expiry with stock, zero stock,
   soft-deleted and wasted products, invoices on each due-date boundary in each state, and the
   alerts the shop's buggy code leaves behind (stale, duplicated, ignored, manual);
2. then bulk products, lots, invoices and alerts drawn from ``random.Random(seed)``.

Same arguments, same rows, on MariaDB and SQLite alike. It writes through the raw DB-API cursor
of ``connections[alias]`` in chunks of 5,000 rows inside one transaction: on SQLite with
``executemany`` (foreign keys deferred to commit), on MySQL as multi-row INSERTs sent by a writer
thread while the next chunk is generated (foreign-key and unique checks off for the load).
Measured on 2 cores: 20,000 products / 200,000 lots in about 5 s, 200,000 / 2,000,000 in about
50 s.

Facts kept as the shop keeps them: ``productos.cantidad`` is the sum of the product's ``activo``
lots when it has lots; the lots' quantities have three decimals (kg products have fractions);
timestamps are UTC (Django's convention with USE_TZ).
"""

from __future__ import annotations

import queue
import random
import threading
from datetime import date, timedelta

from django.db import connections, transaction

from ventas.legacy import mensaje_factura, mensaje_stock_bajo, mensaje_vencimiento
from ventas.schema import TABLES, truncate_all

CHUNK = 5000

COLUMNS = {
    "categorias": ("id", "nombre", "descripcion"),
    "nutricional": (
        "id",
        "calorias",
        "proteinas",
        "carbohidratos",
        "azucares",
        "sodio",
        "grasas",
    ),
    "proveedor": (
        "id",
        "nombre",
        "rut",
        "contacto",
        "telefono",
        "email",
        "direccion",
        "ciudad",
        "region",
        "estado",
        "notas",
        "creado",
        "modificado",
        "eliminado",
    ),
    "productos": (
        "id",
        "nombre",
        "descripcion",
        "marca",
        "precio",
        "caducidad",
        "elaboracion",
        "tipo",
        "stock_actual",
        "stock_minimo",
        "stock_maximo",
        "presentacion",
        "formato",
        "creado",
        "modificado",
        "eliminado",
        "categorias_id",
        "nutricional_id",
        "cantidad",
        "estado_merma",
        "motivo_merma",
        "fecha_merma",
        "cantidad_merma",
        "unidad_stock",
        "unidad_venta",
        "precio_por_unidad_venta",
    ),
    "factura_proveedor": (
        "id",
        "numero_factura",
        "fecha_factura",
        "fecha_vencimiento",
        "fecha_recepcion",
        "subtotal_sin_iva",
        "descuento",
        "total_iva",
        "total_con_iva",
        "estado_pago",
        "observaciones",
        "creado",
        "modificado",
        "eliminado",
        "proveedor_id",
    ),
    "detalle_factura_proveedor": (
        "id",
        "cantidad",
        "precio_unitario",
        "descuento_pct",
        "subtotal",
        "fecha_vencimiento_producto",
        "lote",
        "observaciones",
        "factura_proveedor_id",
        "productos_id",
    ),
    "lotes": (
        "id",
        "productos_id",
        "detalle_factura_proveedor_id",
        "numero_lote",
        "cantidad",
        "cantidad_inicial",
        "fecha_elaboracion",
        "fecha_caducidad",
        "fecha_recepcion",
        "origen",
        "estado",
        "creado",
        "modificado",
    ),
    "alertas": (
        "id",
        "tipo_alerta",
        "mensaje",
        "fecha_generada",
        "estado",
        "productos_id",
        "factura_proveedor_id",
    ),
    "historial_merma": (
        "id",
        "producto_id",
        "cantidad_merma",
        "motivo_merma",
        "fecha_merma",
        "activo",
        "creado",
        "modificado",
    ),
    "movimientos_inventario": (
        "id",
        "tipo_movimiento",
        "cantidad",
        "fecha",
        "productos_id",
        "origen",
        "referencia_id",
        "tipo_referencia",
    ),
}
assert list(COLUMNS) == TABLES

CATEGORIAS = [
    ("Panadería", "Panes del día y de molde"),
    ("Pastelería", "Tortas, kuchenes y pasteles"),
    ("Galletería", "Galletas y masas secas"),
    ("Bebidas", "Jugos, café y bebidas"),
    ("Congelados", "Masas y productos congelados"),
    ("Insumos", "Harinas, azúcar y materias primas"),
]

PROVEEDORES = [
    ("Molinos del Ñuble Ltda.", "Temuco", "Araucanía"),
    ("Lácteos Río Bueno", "La Unión", "Los Ríos"),
    ("Harinera Concepción", "Concepción", "Biobío"),
    ("Azúcares y Compañía", "Santiago", "Metropolitana"),
    ("Frutícola O'Higgins", "Rancagua", "O'Higgins"),
    ("Huevos Doña Inés", "Melipilla", "Metropolitana"),
    ("Distribuidora Peñalolén", "Santiago", "Metropolitana"),
    ("Envases del Maule", "Talca", "Maule"),
]

BASES = [
    "Pan amasado",
    "Marraqueta",
    "Hallulla",
    "Dobladita",
    "Coliza",
    "Pan de molde",
    "Pan integral",
    "Pan de centeno",
    "Baguette",
    "Ciabatta",
    "Pan de leche",
    "Pan de ajo",
    "Pan de maíz",
    "Tortilla de rescoldo",
    "Pan con chicharrones",
    "Torta tres leches",
    "Torta de mil hojas",
    "Torta de piña",
    "Torta selva negra",
    "Kuchen de manzana",
    "Kuchen de nuez",
    "Kuchen de frambuesa",
    "Berlín",
    "Chilenito",
    "Alfajor",
    "Empanada de pino",
    "Empanada de queso",
    "Calzones rotos",
    "Sopaipilla",
    "Pie de limón",
    "Brazo de reina",
    "Queque de naranja",
    "Queque marmoleado",
    "Galletas de avena",
    "Galletas de mantequilla",
    "Cachitos de manjar",
    "Pan de pascua",
    "Medialuna",
    "Croissant",
    "Brownie",
    "Cuchuflí",
    "Pionono",
    "Magdalena",
    "Rosca de huevo",
    "Budín de pan",
    "Mazapán",
    "Piñonate",
    "Trenza de nuez",
    "Pastel de choclo",
    "Harina flor",
]
MODIFICADORES = [
    "",
    "",
    "",
    " grande",
    " pequeño",
    " integral",
    " sin azúcar",
    " sin gluten",
    " artesanal",
    " familiar",
    " de la casa",
    " con nueces",
    " con pasas",
    " con chips de chocolate",
    " x 6",
    " x 12",
    " ½ kg",
    " 1 kg",
    " de campo",
    " receta de la abuela",
]
RAROS = [' "La Especial"', " 'Don Ñico'", " de cumpleaños 🎂", " d'Orsay"]
APELLIDOS = ["Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Núñez", "Sepúlveda", "Fuentes"]
MARCAS = ["Casa propia", "La Espiga", "Trigal", "El Molino", "Doña Nena", None]
TIPOS = ["Panadería", "Pastelería", "Galletería", "Dulces", "Salados", None]
PRESENTACIONES = ["unidad", "bolsa", "caja", "torta completa", "porción", "kg", None]
MOTIVOS_MERMA = ["vencido", "roto en traslado", "mal horneado", "devuelto por cliente", "húmedo"]

# Every time of day as text: timestamps are built millions of times.
_TIMES = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400)]

PROBABILIDAD_SIN_LOTES = 0.10
PROBABILIDAD_SIN_MINIMO = 0.10


def _q(milli: int) -> str:
    """A quantity in thousandths as the DECIMAL(10,3) text MySQL stores ('2.500')."""
    return f"{milli // 1000}.{milli % 1000:03d}"


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _dv(number: int) -> str:
    """Chilean RUT check digit (modulo 11)."""
    total, factor = 0, 2
    while number:
        total += (number % 10) * factor
        number //= 10
        factor = 2 if factor == 7 else factor + 1
    rest = 11 - total % 11
    return "0" if rest == 11 else "K" if rest == 10 else str(rest)


def _sql_literal(value) -> str:
    if value is None:
        return "NULL"
    if type(value) is int:
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _lote_literal(row: tuple) -> str:
    """A lots row as SQL text, without per-value dispatch (2,000,000 of them at full scale).

    Safe without escaping: every text in a lot row is generated here (dates, enums, 'L<id>-NN').
    """
    lid, pid, detalle, numero, cant, inicial, elab, cad, recibido, origen, estado, creado, mod = row
    detalle = "NULL" if detalle is None else detalle
    numero = "NULL" if numero is None else f"'{numero}'"
    mod = "NULL" if mod is None else f"'{mod}'"
    return (
        f"({lid},{pid},{detalle},{numero},{cant},{inicial},'{elab}','{cad}','{recibido}',"
        f"'{origen}','{estado}','{creado}',{mod})"
    )


class _Sink:
    """Buffers rows per table and writes them in chunks of ``CHUNK`` rows.

    SQLite: ``executemany`` on the raw cursor. MySQL: one multi-row INSERT per chunk, built
    here (the values are our own strings and ints) and sent by a writer thread, so that the
    server inserts one chunk while Python generates the next (mysqlclient releases the GIL
    while the server works). Either way all of it is one transaction of the caller.
    """

    def __init__(self, cursor, vendor: str) -> None:
        self.cursor = cursor
        self.vendor = vendor
        self.buffers: dict[str, list[tuple]] = {t: [] for t in TABLES}
        self.counts: dict[str, int] = {t: 0 for t in TABLES}
        if vendor == "mysql":
            self.sql = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES " for t, c in COLUMNS.items()}
            self._queue: queue.Queue = queue.Queue(maxsize=4)
            self._error: BaseException | None = None
            self._thread = threading.Thread(target=self._write, name="seed-writer", daemon=True)
            self._thread.start()
        else:
            self.sql = {
                t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join(['?'] * len(c))})"
                for t, c in COLUMNS.items()
            }

    def _write(self) -> None:
        while True:
            statement = self._queue.get()
            if statement is None:
                return
            if self._error is None:
                try:
                    self.cursor.execute(statement)
                except BaseException as exc:  # handed to the generating thread
                    self._error = exc

    def add(self, table: str, row: tuple) -> None:
        buf = self.buffers[table]
        buf.append(row)
        if len(buf) >= CHUNK:
            self.flush(table)

    def flush(self, table: str | None = None) -> None:
        for t in [table] if table else TABLES:
            buf = self.buffers[t]
            if not buf:
                continue
            if self.vendor == "mysql":
                if self._error is not None:
                    raise self._error
                if t == "lotes":
                    values = ",".join([_lote_literal(row) for row in buf])
                else:
                    lit = _sql_literal
                    values = ",".join(["(" + ",".join([lit(v) for v in row]) + ")" for row in buf])
                self._queue.put(self.sql[t] + values)
            else:
                self.cursor.executemany(self.sql[t], buf)
            self.counts[t] += len(buf)
            buf.clear()

    def close(self) -> None:
        """Flush everything and wait for the writer; raises what the writer hit."""
        try:
            self.flush()
        finally:
            if self.vendor == "mysql":
                self._queue.put(None)
                self._thread.join()
        if self.vendor == "mysql" and self._error is not None:
            raise self._error

    def abort(self) -> None:
        if self.vendor == "mysql" and self._thread.is_alive():
            self._error = self._error or RuntimeError("seed aborted")
            self._queue.put(None)
            self._thread.join()


class _Generator:
    """Builds the rows; ids are assigned here so edges get 1..k and bulk follows."""

    def __init__(self, sink: _Sink, hoy: date, rng: random.Random) -> None:
        self.sink = sink
        self.hoy = hoy
        self.rng = rng
        self.next_id = {t: 1 for t in TABLES}
        self.edges: dict[str, int] = {}
        self.nombres: dict[int, str] = {}  # edge products' names, for their alerts
        self._dates: dict[int, str] = {}
        self.random = rng.random
        self.n_proveedores = 0
        self.n_categorias = len(CATEGORIAS)

    # -- small helpers ------------------------------------------------------------------------

    def _id(self, table: str) -> int:
        i = self.next_id[table]
        self.next_id[table] = i + 1
        return i

    def fecha(self, offset: int | None) -> str | None:
        """The date ``hoy + offset`` as 'YYYY-MM-DD' (memoised: it is called millions of times)."""
        if offset is None:
            return None
        s = self._dates.get(offset)
        if s is None:
            s = (self.hoy + timedelta(days=offset)).isoformat()
            self._dates[offset] = s
        return s

    def momento(self, offset_days: int, seconds: int = 0) -> str:
        """UTC timestamp text at midnight of ``hoy + offset_days`` plus ``seconds``."""
        extra, seconds = divmod(seconds, 86_400)
        return f"{self.fecha(offset_days + extra)} {_TIMES[seconds]}"

    # -- reference tables ---------------------------------------------------------------------

    def categorias(self) -> None:
        for nombre, descripcion in CATEGORIAS:
            self.sink.add("categorias", (self._id("categorias"), nombre, descripcion))

    def proveedores(self, extra: int) -> None:
        rng = self.rng
        nombres = list(PROVEEDORES)
        for k in range(extra):
            ciudad, region = PROVEEDORES[k % len(PROVEEDORES)][1:]
            apellido = APELLIDOS[k % len(APELLIDOS)]
            nombres.append((f"Distribuidora {apellido} {k // len(APELLIDOS) + 1}", ciudad, region))
        for nombre, ciudad, region in nombres:
            pid = self._id("proveedor")
            rut_num = 76_000_000 + pid * 137
            creado = self.momento(-400 + pid % 300, 36_000)
            row = (
                pid,
                nombre,
                f"{rut_num}-{_dv(rut_num)}",
                rng.choice(["María González", "Juan Pérez", "Ñuñoa Ventas", None]),
                f"+569{rng.randrange(10_000_000, 99_999_999)}",
                f"ventas{pid}@proveedor.cl",
                f"Camino {rng.choice(['Real', 'Viejo', 'del Alba'])} {rng.randint(1, 3000)}",
                ciudad,
                region,
                "activo" if pid % 17 else "inactivo",
                None,
                creado,
                creado,
                None,
            )
            self.sink.add("proveedor", row)
        self.n_proveedores = len(nombres)

    def nutricional(self, nid: int) -> None:
        rng = self.rng
        if nid % 4 == 0:
            row = (nid, None, None, None, None, None, None)
        else:
            row = (
                nid,
                rng.randint(80, 520),
                _money(rng.randint(100, 1500)),
                _money(rng.randint(1000, 7000)),
                _money(rng.randint(0, 4000)),
                _money(rng.randint(0, 90000)),
                _money(rng.randint(0, 3000)),
            )
        self.sink.add("nutricional", row)

    # -- products and lots --------------------------------------------------------------------

    def producto(
        self,
        nombre: str,
        *,
        caducidad: int | None,
        cantidad: int = 0,
        lotes: list[tuple[str, int, int]] | None = None,
        stock_minimo: int | None = 5,
        estado_merma: str = "activo",
        eliminado: bool = False,
        unidad: str = "unidad",
        key: str | None = None,
        precio_centavos: int | None = None,
    ) -> int:
        """Write one product (and its lots). Quantities in thousandths; dates as offsets.

        ``lotes``: (estado, cantidad, caducidad offset) each; then the product's ``cantidad`` is
        the sum of its ``activo`` lots, as the shop keeps it.
        """
        rng = self.rng
        pid = self._id("productos")
        if key:
            self.edges[key] = pid
            self.nombres[pid] = nombre
        lot_ids = []
        merma = estado_merma == "en_merma"
        if lotes:
            cantidad = sum(c for estado, c, _ in lotes if estado == "activo")
            if merma:
                # Moving a product to waste takes its active lots with it.
                lotes = [
                    ("en_merma", 0, cad) if e == "activo" else (e, c, cad) for e, c, cad in lotes
                ]
            for j, (estado, c, cad) in enumerate(lotes):
                lot_ids.append(self.lote(pid, j, estado, c, cad))
        self.nutricional(pid)
        precio = rng.randrange(500, 30_000, 50) * 100
        if precio_centavos is not None:
            precio = precio_centavos
        creado_off = -rng.randint(30, 700)
        creado = self.momento(creado_off, rng.randint(0, 86_399))
        cantidad_merma = 0
        motivo = fecha_merma = None
        if merma:
            cantidad_merma = max(cantidad // 1000, 1)
            cantidad = 0
            caducidad = None
            motivo = rng.choice(MOTIVOS_MERMA)
            fecha_merma = self.momento(-rng.randint(1, 20), rng.randint(30_000, 70_000))
            self.sink.add(
                "historial_merma",
                (
                    self._id("historial_merma"),
                    pid,
                    _q(cantidad_merma * 1000),
                    motivo,
                    fecha_merma,
                    1,
                    fecha_merma,
                    fecha_merma,
                ),
            )
        minimo = stock_minimo
        row = (
            pid,
            nombre,
            nombre.lower()[:300],
            rng.choice(MARCAS),
            _money(precio),
            self.fecha(caducidad),
            None if merma or caducidad is None else self.fecha(caducidad - rng.randint(1, 10)),
            rng.choice(TIPOS),
            None if pid % 3 == 0 else cantidad // 1000,
            minimo,
            None if minimo is None else minimo * rng.randint(3, 6),
            rng.choice(PRESENTACIONES),
            rng.choice(PRESENTACIONES),
            creado,
            self.momento(-rng.randint(0, 10), rng.randint(0, 86_399)),
            self.momento(-rng.randint(1, 30), 43_200) if eliminado else None,
            1 + pid % self.n_categorias,
            pid,
            _q(cantidad),
            estado_merma,
            motivo,
            fecha_merma,
            cantidad_merma,
            unidad,
            unidad,
            _money(precio),
        )
        self.sink.add("productos", row)
        self.sink.add(
            "movimientos_inventario",
            (
                self._id("movimientos_inventario"),
                "entrada",
                max(cantidad // 1000, 1),
                creado,
                pid,
                "produccion_propia" if lotes else "ajuste",
                lot_ids[-1] if lot_ids else None,
                "lote" if lotes else "ajuste_manual",
            ),
        )
        return pid

    def lote(self, pid: int, j: int, estado: str, cantidad: int, caducidad: int) -> int:
        """Write one lot; called millions of times, so it draws few, cheap random numbers."""
        r = self.random
        lid = self.next_id["lotes"]
        self.next_id["lotes"] = lid + 1
        recepcion = min(caducidad - 2 - int(r() * 29), -int(r() * 4))
        x = r()
        origen = "produccion_propia" if x < 0.5 else "compra" if x < 0.9 else "ajuste_manual"
        recibido = self.momento(recepcion, 21_600 + int(r() * 50_400))
        if estado == "activo":
            inicial = cantidad + int(r() * 31) * 1000
        else:
            inicial = max(cantidad, 1000 + int(r() * 40) * 1000)
        self.sink.add(
            "lotes",
            (
                lid,
                pid,
                None,
                None if origen == "ajuste_manual" else f"L{pid}-{j + 1:02d}",
                _q(cantidad),
                _q(inicial),
                self.fecha(recepcion - int(r() * 3)),
                self.fecha(caducidad),
                recibido,
                origen,
                estado,
                recibido,
                None if estado == "activo" else self.momento(-int(r() * 6), 50_000),
            ),
        )
        return lid

    # -- alerts ---------------------------------------------------------------------------------

    def alerta(
        self,
        tipo: str,
        mensaje: str,
        *,
        hace_dias: int,
        estado: str = "activa",
        producto: int | None = None,
        factura: int | None = None,
        key: str | None = None,
        segundos: int = 32_400,
    ) -> int:
        aid = self._id("alertas")
        if key:
            self.edges[key] = aid
        self.sink.add(
            "alertas",
            (aid, tipo, mensaje, self.momento(-hace_dias, segundos), estado, producto, factura),
        )
        return aid

    # -- invoices -------------------------------------------------------------------------------

    def factura(
        self,
        *,
        vence: int | None,
        estado: str,
        proveedor: int,
        subtotal: int,
        eliminado: bool = False,
        productos: list[int] = (),
        key: str | None = None,
    ) -> tuple[int, str, str]:
        """Write an invoice; returns (id, numero_factura, total_con_iva text)."""
        rng = self.rng
        fid = self._id("factura_proveedor")
        if key:
            self.edges[key] = fid
        numero = str(1000 + fid)
        emitida = (vence if vence is not None else -rng.randint(0, 40)) - rng.randint(10, 30)
        iva = subtotal * 19 // 100
        total = subtotal + iva
        creado = self.momento(emitida, 40_000)
        self.sink.add(
            "factura_proveedor",
            (
                fid,
                numero,
                self.fecha(emitida),
                self.fecha(vence),
                self.fecha(emitida + 1),
                _money(subtotal),
                "0.00",
                _money(iva),
                _money(total),
                estado,
                "pago en dos cuotas" if estado == "parcial" else None,
                creado,
                creado,
                self.momento(-rng.randint(1, 10), 50_000) if eliminado else None,
                proveedor,
            ),
        )
        for pid in productos:
            unidades = rng.randint(2, 40)
            precio = subtotal // max(len(productos), 1) // unidades
            self.sink.add(
                "detalle_factura_proveedor",
                (
                    self._id("detalle_factura_proveedor"),
                    unidades,
                    _money(precio),
                    "0.00",
                    _money(precio * unidades),
                    self.fecha(vence + 20 if vence is not None else None),
                    None,
                    None,
                    fid,
                    pid,
                ),
            )
        return fid, numero, _money(total)

    def proveedor_nombre(self, pid: int) -> str:
        if pid <= len(PROVEEDORES):
            return PROVEEDORES[pid - 1][0]
        return ""


# -- edges ----------------------------------------------------------------------------------

BANDAS_PRODUCTO = [(-1, "minus_1"), (0, "0"), (13, "13"), (14, "14"), (29, "29"), (30, "30")]
BANDAS_FACTURA = [(-1, "minus_1"), (0, "0"), (7, "7"), (8, "8"), (30, "30"), (31, "31")]
NOMBRES_SIN_LOTES = [
    "Pan amasado",
    "Marraqueta",
    "Torta tres leches",
    "Kuchen de nuez",
    "Pan de pascua",
    "Galletas de mantequilla",
]
NOMBRES_CON_LOTES = [
    "Hallulla",
    "Berlín de crema",
    "Empanada de pino",
    "Pie de limón",
    "Queque de piña",
    "Alfajor de maicena",
]


def _edge_products(g: _Generator) -> None:
    """Products 1..k: every expiry band boundary and stock rule edge (see DOMAIN.md)."""
    for (d, name), nombre in zip(BANDAS_PRODUCTO, NOMBRES_SIN_LOTES, strict=True):
        g.producto(nombre, caducidad=d, cantidad=24_000, stock_minimo=5, key=f"prod_d_{name}")
    for (d, name), nombre in zip(BANDAS_PRODUCTO, NOMBRES_CON_LOTES, strict=True):
        # An earlier lot ran out, the FEFO lot expires on the band day, a later one follows.
        lotes = [("agotado", 0, d - 4), ("activo", 6_000, d), ("activo", 12_500, d + 7)]
        g.producto(nombre, caducidad=d, lotes=lotes, stock_minimo=5, key=f"prod_lots_d_{name}")

    # The product's caducidad says amarilla (hoy+20) but an active lot expired two days ago;
    # an active lot with nothing left (hoy-4) must not count as FEFO, nor the agotado ones.
    first_lot = g.next_id["lotes"]
    lotes = [
        ("agotado", 0, -5),
        ("activo", 0, -4),
        ("activo", 3_000, -2),
        ("agotado", 0, 1),
        ("activo", 10_500, 20),
    ]
    g.producto(
        "Pan de molde integral", caducidad=20, lotes=lotes, stock_minimo=4, key="prod_mixed_lots"
    )
    g.edges["lot_mixed_zero_active"] = first_lot + 1
    g.edges["lot_mixed_expired"] = first_lot + 2
    g.edges["lot_mixed_later"] = first_lot + 4

    g.producto(
        "Tostadas de la casa",
        caducidad=None,
        cantidad=8_000,
        stock_minimo=2,
        key="prod_null_caducidad",
    )
    g.producto("Chilenito", caducidad=60, cantidad=7_000, stock_minimo=7, key="prod_stock_eq_min")
    g.producto(
        "Cachitos de manjar",
        caducidad=45,
        cantidad=5_000,
        stock_minimo=None,
        key="prod_default_min_eq",
    )
    g.producto(
        "Brazo de reina",
        caducidad=45,
        cantidad=5_001,
        stock_minimo=None,
        key="prod_default_min_above",
    )
    g.producto("Dobladita", caducidad=3, cantidad=0, stock_minimo=4, key="prod_zero_stock")
    g.producto(
        "Pan de centeno",
        caducidad=40,
        cantidad=2_500,
        stock_minimo=3,
        unidad="kg",
        key="prod_fractional_low",
    )
    g.producto(
        "Medialuna",
        caducidad=5,
        lotes=[("agotado", 0, 2), ("agotado", 0, 5), ("en_merma", 0, 6)],
        stock_minimo=3,
        key="prod_all_lots_agotado",
    )
    g.producto("Pan de ajo", caducidad=2, cantidad=10_000, eliminado=True, key="prod_deleted")
    g.producto(
        "Sopaipilla pasada",
        caducidad=2,
        cantidad=10_000,
        estado_merma="inactivo",
        key="prod_inactivo",
    )
    g.producto(
        "Calzones rotos", caducidad=1, cantidad=9_000, estado_merma="en_merma", key="prod_en_merma"
    )
    g.producto(
        "Pan de leche", caducidad=-3, cantidad=6_000, estado_merma="vencido", key="prod_vencido"
    )
    g.producto(
        'Torta "Selva Negra"',
        caducidad=-5,
        cantidad=12_000,
        stock_minimo=2,
        key="prod_vencio_duplicados",
    )
    g.producto(
        "Queque marmoleado", caducidad=50, cantidad=40_000, stock_minimo=10, key="prod_restocked"
    )
    g.producto(
        "Torta de cumpleaños 🎂", caducidad=20, cantidad=3_000, stock_minimo=1, key="prod_emoji"
    )
    g.producto(
        "Galletón 'Don Ñico'",
        caducidad=10,
        cantidad=15_250,
        stock_minimo=5,
        unidad="kg",
        key="prod_quote",
    )


def _edge_vencimientos(g: _Generator, alertas: bool) -> None:
    """Extra edges for the expiry job (``seed(..., vencimientos=True)``), keys ``venc_*``.

    Lots dated yesterday, today and tomorrow in one product; a product whose every lot with stock
    expired (kg, fractional); products without lots expired with a fraction and with none left;
    deleted and inactive products with expired lots and dates (left alone); a product whose own
    date passed while its lots are good. Prices have cents, so values are not whole.
    """
    e = g.edges

    def lotes_de(
        key: str, nombre: str, lotes: list[tuple[str, int, int]], claves: list[str], **kw
    ) -> None:
        """A kg product at $1990.50 with these lots; ``claves`` names the lots' edges."""
        first = g.next_id["lotes"]
        for j, clave in enumerate(claves):
            if clave:
                e[clave] = first + j
        g.producto(
            nombre,
            caducidad=lotes[0][2],
            lotes=lotes,
            key=key,
            precio_centavos=199_050,
            unidad="kg",
            **kw,
        )

    lotes_de(
        "venc_lotes_ayer_hoy_manana",
        "Pan de campo por kilo",
        [("agotado", 0, -3), ("activo", 4_500, -1), ("activo", 5_000, 0), ("activo", 6_000, 1)],
        ["", "venc_lote_ayer", "venc_lote_hoy", "venc_lote_manana"],
    )
    lotes_de(
        "venc_todos_lotes_vencidos",
        "Masa madre por kilo",
        [("agotado", 0, -8), ("activo", 2_250, -3), ("activo", 1_500, -1)],
        ["", "venc_lote_vencido_a", "venc_lote_vencido_b"],
    )
    lotes_de(
        "venc_eliminado_lotes",
        "Pan borrado con lotes",
        [("activo", 3_000, -2), ("activo", 2_000, 5)],
        ["venc_lote_de_eliminado", ""],
        eliminado=True,
    )
    lotes_de(
        "venc_inactivo_lotes",
        "Pan inactivo con lotes",
        [("activo", 3_000, -2)],
        ["venc_lote_de_inactivo"],
        estado_merma="inactivo",
    )
    g.producto(
        "Pan de molde con fecha vieja",
        caducidad=-3,
        lotes=[("activo", 7_000, 4)],
        key="venc_caducidad_vieja",
        precio_centavos=150_000,
    )
    g.producto(
        "Queso fresco por kilo",
        caducidad=-2,
        cantidad=750,
        unidad="kg",
        key="venc_sin_lotes_fraccion",
        precio_centavos=899_990,
    )
    g.producto("Pan sin stock", caducidad=-6, cantidad=0, key="venc_sin_lotes_cero")
    g.producto(
        "Pan borrado vencido",
        caducidad=-2,
        cantidad=5_000,
        eliminado=True,
        key="venc_eliminado_sin_lotes",
    )
    g.producto(
        "Pan inactivo vencido",
        caducidad=-2,
        cantidad=5_000,
        estado_merma="inactivo",
        key="venc_inactivo_sin_lotes",
    )
    if alertas:
        todos = e["venc_todos_lotes_vencidos"]
        nombre = g.nombres[todos]
        tipo, mensaje = mensaje_vencimiento(nombre, -2)
        g.alerta(tipo, mensaje, producto=todos, hace_dias=1, key="venc_alerta_vencio")
        tipo, mensaje = mensaje_stock_bajo(nombre, "3.750", 5)
        g.alerta(tipo, mensaje, producto=todos, hace_dias=1, key="venc_alerta_stock")
        mixto = e["venc_lotes_ayer_hoy_manana"]
        tipo, mensaje = mensaje_vencimiento(g.nombres[mixto], 0)
        g.alerta(
            tipo,
            mensaje,
            producto=mixto,
            hace_dias=1,
            estado="ignorada",
            key="venc_alerta_ignorada",
        )


def _edge_invoices(g: _Generator) -> dict[str, tuple[int, str, str, int]]:
    """Invoices 1..k: each due-date boundary as pendiente and parcial, then the excluded ones."""
    out: dict[str, tuple[int, str, str, int]] = {}
    n_prov = len(PROVEEDORES)
    k = 0

    def add(key: str, vence: int | None, estado: str, eliminado: bool = False) -> None:
        nonlocal k
        proveedor = 1 + k % n_prov
        subtotal = (25_000 + 2_500 * k) * 100
        producto = g.edges["prod_d_minus_1"] + k % 6
        fid, numero, total = g.factura(
            vence=vence,
            estado=estado,
            proveedor=proveedor,
            subtotal=subtotal,
            eliminado=eliminado,
            productos=[producto],
            key=key,
        )
        out[key] = (fid, numero, total, proveedor)
        k += 1

    for estado, prefix in (("pendiente", "inv"), ("parcial", "inv_parcial")):
        for d, name in BANDAS_FACTURA:
            add(f"{prefix}_d_{name}", d, estado)
    add("inv_pagado", 2, "pagado")
    add("inv_cancelado", -3, "cancelado")
    add("inv_atrasado", -10, "atrasado")
    add("inv_deleted", 1, "pendiente", eliminado=True)
    add("inv_null_vencimiento", None, "pendiente")
    return out


def _edge_alerts(g: _Generator, nombres: dict[int, str], facturas: dict) -> None:
    """The alerts the shop's code leaves behind, as of the morning of ``hoy``."""
    e = g.edges

    def vence(producto: str, dias: int, **kw) -> int:
        tipo, mensaje = mensaje_vencimiento(nombres[e[producto]], dias)
        return g.alerta(tipo, mensaje, producto=e[producto], **kw)

    def factura_alerta(factura: str, dias: int, **kw) -> int:
        fid, numero, total, proveedor = facturas[factura]
        tipo, mensaje = mensaje_factura(numero, g.proveedor_nombre(proveedor), total, dias)
        return g.alerta(tipo, mensaje, factura=fid, **kw)

    # History the app resolved long ago.
    vence("prod_d_0", 5, hace_dias=5, estado="resuelta", key="alert_resuelta")
    vence("prod_d_minus_1", 9, hace_dias=8, estado="resuelta")
    tipo, mensaje = mensaje_stock_bajo(nombres[e["prod_stock_eq_min"]], "2.000", 7)
    g.alerta(tipo, mensaje, producto=e["prod_stock_eq_min"], hace_dias=12, estado="resuelta")

    # Stale: the condition is gone but the app never closes these.
    factura_alerta("inv_pagado", 3, hace_dias=1, key="alert_stale_inv_pagado")
    factura_alerta("inv_cancelado", -2, hace_dias=1, key="alert_stale_inv_cancelado")
    factura_alerta("inv_deleted", 2, hace_dias=1, key="alert_stale_inv_deleted")
    vence("prod_deleted", 3, hace_dias=1, key="alert_stale_prod_deleted")
    vence("prod_zero_stock", 4, hace_dias=1, key="alert_stale_zero_stock")
    vence("prod_en_merma", 2, hace_dias=1, key="alert_stale_en_merma")

    # The duplicate bug: 'YA VENCIÓ' lacks 'vence', so each run added another copy.
    vence("prod_vencio_duplicados", -3, hace_dias=2, key="alert_vencio_dup_a")
    vence("prod_vencio_duplicados", -3, hace_dias=2, segundos=36_000, key="alert_vencio_dup_b")
    vence("prod_vencio_duplicados", -4, hace_dias=1, key="alert_vencio_dup_c")

    # Ignored by an operator yesterday (1 day left, roja); today 0 days left, still roja.
    vence("prod_d_0", 1, hace_dias=1, estado="ignorada", key="alert_ignorada")

    # Typed by hand on the dashboard; matches no rule and must be left alone.
    g.alerta(
        "amarilla",
        "Revisar cadena de frío de la vitrina",
        producto=e["prod_stock_eq_min"],
        hace_dias=2,
        key="alert_manual",
    )

    # Yesterday's alerts that today's run must update in place.
    vence("prod_d_29", 30, hace_dias=1, key="alert_update_colour")  # verde -> amarilla
    vence("prod_d_14", 15, hace_dias=1, key="alert_update_message")  # same colour, new text
    factura_alerta("inv_d_7", 8, hace_dias=1, key="alert_inv_update")  # amarilla -> roja

    # Already right: today's run changes nothing.
    tipo, mensaje = mensaje_stock_bajo(nombres[e["prod_stock_eq_min"]], "7.000", 7)
    g.alerta(
        tipo, mensaje, producto=e["prod_stock_eq_min"], hace_dias=0, key="alert_unchanged_stock"
    )

    # Low stock that was restocked since: the app resolves this one.
    tipo, mensaje = mensaje_stock_bajo(nombres[e["prod_restocked"]], "3.000", 10)
    g.alerta(tipo, mensaje, producto=e["prod_restocked"], hace_dias=1, key="alert_stock_to_resolve")


# -- bulk -----------------------------------------------------------------------------------


def _nombre(rng: random.Random) -> str:
    nombre = rng.choice(BASES) + rng.choice(MODIFICADORES)
    if rng.random() < 0.004:
        nombre += rng.choice(RAROS)
    return nombre


def _bulk_product(
    g: _Generator, lotes_objetivo: int, alertas: bool, sin_retirar: float = 0.0
) -> tuple[int, int]:
    """One random product with about ``lotes_objetivo`` lots; returns (id, lots written).

    ``sin_retirar``: the share of products with lots whose first lot with stock expired some
    days ago and is still ``activo`` (nobody moved it to waste).
    """
    rng = g.rng
    r = rng.random()
    estado_merma = (
        "activo" if r < 0.93 else "inactivo" if r < 0.96 else "en_merma" if r < 0.99 else "vencido"
    )
    eliminado = rng.random() < 0.02
    kg = rng.random() < 0.15
    minimo = None if rng.random() < PROBABILIDAD_SIN_MINIMO else rng.randint(2, 20)
    nombre = _nombre(rng)

    if lotes_objetivo == 0 or rng.random() < PROBABILIDAD_SIN_LOTES:
        cantidad = 0 if rng.random() < 0.08 else _cantidad(rng, kg)
        caducidad = None if rng.random() < 0.01 else rng.randint(-20, 90)
        pid = g.producto(
            nombre,
            caducidad=caducidad,
            cantidad=cantidad,
            stock_minimo=minimo,
            estado_merma=estado_merma,
            eliminado=eliminado,
            unidad="kg" if kg else "unidad",
        )
        n_lotes = 0
        stock = cantidad
    else:
        # Products without lots are PROBABILIDAD_SIN_LOTES of all; the others carry a little
        # more so that the lot total stays near productos * lotes_por_producto.
        media = lotes_objetivo / (1 - PROBABILIDAD_SIN_LOTES)
        n = max(1, round(media + rng.uniform(-2, 2)))
        start = rng.randint(-20, 60)
        lotes = []
        cad = start
        activos = 0 if rng.random() < 0.05 else rng.choice((1, 1, 2, 2, 3))
        r = rng.random
        for j in range(n):
            if j:
                cad = min(cad + 1 + int(r() * 7), 90)
            if j >= n - activos:
                estado, c = "activo", _cantidad(rng, kg)
            else:
                x = r()
                if x < 0.05 and cad < 0:
                    estado, c = "vencido", _cantidad(rng, kg)
                elif x < 0.08:
                    estado, c = "en_merma", 0
                else:
                    estado, c = "agotado", 0
            lotes.append((estado, c, cad))
        if sin_retirar and rng.random() < sin_retirar:
            first = next((j for j, (estado, c, _) in enumerate(lotes) if estado == "activo"), None)
            if first is not None:
                lotes[first] = ("activo", lotes[first][1], -1 - int(r() * 10))
        fefo = min((cad for estado, c, cad in lotes if estado == "activo" and c > 0), default=None)
        # Mostly the app keeps caducidad at the FEFO lot; sometimes it is stale.
        caducidad = fefo if fefo is not None and rng.random() < 0.9 else lotes[0][2]
        pid = g.producto(
            nombre,
            caducidad=caducidad,
            lotes=lotes,
            stock_minimo=minimo,
            estado_merma=estado_merma,
            eliminado=eliminado,
            unidad="kg" if kg else "unidad",
        )
        n_lotes = n
        stock = sum(c for estado, c, _ in lotes if estado == "activo")

    if alertas and estado_merma == "activo" and not eliminado:
        x = rng.random()
        if x < 0.05 and stock > 0 and caducidad is not None:
            # Yesterday's run left an expiry alert (from the product's own caducidad).
            tipo, mensaje = mensaje_vencimiento(nombre, caducidad + 1)
            g.alerta(tipo, mensaje, producto=pid, hace_dias=1)
        elif x < 0.08:
            tipo, mensaje = mensaje_vencimiento(nombre, rng.randint(0, 13))
            g.alerta(tipo, mensaje, producto=pid, hace_dias=rng.randint(5, 60), estado="resuelta")
    return pid, n_lotes


def _cantidad(rng: random.Random, kg: bool) -> int:
    """A positive stock in thousandths: whole units, or kilograms in quarters."""
    if kg:
        return (2 + int(rng.random() * 79)) * 250
    return (1 + int(rng.random() * 60)) * 1000


def _fill(
    g: _Generator,
    productos: int,
    lotes_por_producto: int,
    facturas: int,
    alertas: bool,
    vencimientos: bool = False,
    lotes_sin_retirar: float = 0.0,
) -> None:
    """Edges first (ids 1..k of each table), then the bulk."""
    rng = g.rng
    g.categorias()
    g.proveedores(extra=max(0, facturas // 200))
    _edge_products(g)
    inv = _edge_invoices(g)
    if alertas:
        _edge_alerts(g, g.nombres, inv)
    if vencimientos:
        _edge_vencimientos(g, alertas)
    n_edge_products = g.next_id["productos"] - 1

    for _ in range(max(0, productos - n_edge_products)):
        _bulk_product(g, lotes_por_producto, alertas, lotes_sin_retirar)

    total_productos = g.next_id["productos"] - 1
    for _ in range(max(0, facturas - len(inv))):
        r = rng.random()
        estado = (
            "pagado"
            if r < 0.40
            else "pendiente"
            if r < 0.75
            else "parcial"
            if r < 0.85
            else "atrasado"
            if r < 0.92
            else "cancelado"
        )
        g.factura(
            vence=None if rng.random() < 0.03 else rng.randint(-40, 60),
            estado=estado,
            proveedor=rng.randint(1, g.n_proveedores),
            subtotal=rng.randint(20, 2_000) * 1_000 * 100,
            eliminado=rng.random() < 0.02,
            productos=[rng.randint(1, total_productos) for _ in range(rng.randint(1, 3))],
        )


def seed(
    alias: str = "default",
    *,
    productos: int = 200,
    lotes_por_producto: int = 10,
    facturas: int | None = None,
    hoy: date,
    seed: int = 1,
    alertas_existentes: bool = True,
    vencimientos: bool = False,
    lotes_sin_retirar: float = 0.0,
) -> dict:
    """Empty the shop's tables on ``alias`` and fill them; returns row counts and ``edges``.

    ``productos`` counts the edge products too (there are always all of them, so asking for
    fewer gives the edges only). ``facturas`` defaults to ``productos // 5``. The result maps
    each table to its row count, plus ``edges`` (edge name -> id) and ``hoy``.

    For the expiry job: ``vencimientos`` adds the ``venc_*`` edge products and lots (after the
    other edges; see ``_edge_vencimientos``), and ``lotes_sin_retirar`` (0..1) is the share of
    bulk products with lots whose first lot with stock expired 1-10 days ago and is still
    ``activo``, as after days without the expiry job. Both off by default (same data as before).
    """
    if productos < 0 or lotes_por_producto < 0:
        raise ValueError("productos and lotes_por_producto must not be negative")
    if not 0.0 <= lotes_sin_retirar <= 1.0:
        raise ValueError("lotes_sin_retirar must be between 0 and 1")
    if facturas is None:
        facturas = productos // 5
    connection = connections[alias]
    vendor = connection.vendor
    if vendor not in ("mysql", "sqlite"):
        raise ValueError(f"seed supports mysql and sqlite, not {vendor!r}")
    truncate_all(alias)
    rng = random.Random(seed)

    with transaction.atomic(using=alias):
        connection.ensure_connection()
        raw = connection.connection.cursor()
        try:
            if vendor == "mysql":
                raw.execute("SET SESSION FOREIGN_KEY_CHECKS = 0, SESSION UNIQUE_CHECKS = 0")
            else:
                raw.execute("PRAGMA defer_foreign_keys = ON")
            sink = _Sink(raw, vendor)
            g = _Generator(sink, hoy, rng)
            try:
                _fill(
                    g,
                    productos,
                    lotes_por_producto,
                    facturas,
                    alertas_existentes,
                    vencimientos,
                    lotes_sin_retirar,
                )
                sink.close()
            except BaseException:
                sink.abort()
                raise
        finally:
            if vendor == "mysql":
                raw.execute("SET SESSION FOREIGN_KEY_CHECKS = 1, SESSION UNIQUE_CHECKS = 1")
            raw.close()

    result: dict = dict(sink.counts)
    result["edges"] = dict(g.edges)
    result["hoy"] = hoy
    return result
