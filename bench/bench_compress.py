"""compress: forneria_ops.compress against gzip -6 and pigz -6 -p 2 on a 200 MB SQL dump.

The input is the shop's production export at scale: the tables and columns of
``forneria_produccion_2025-12.sql`` (sales, sale lines, stock movements, receipts with their JSON
document, production lots) filled by a simulated sales history (sales in time order over the
shop's opening hours, per-product prices, mostly the generic client), written the way the
export is (phpMyAdmin: column lists, one row per line, 1,000 rows per INSERT). A fixed seed
makes every run compress the same bytes. It is kept in
``bench/var/`` and read once before timing, so every tool reads it from the page cache.

Each round runs the three tools in turn, each writing its own output file on the same disk:

* ``gzip -6 -c IN > OUT`` (what the manuals' cron lines do),
* ``pigz -6 -p 2 -c IN > OUT`` (the parallel gzip a careful admin would install),
* ``forneria_ops.compress(IN, OUT, level=6)`` in this process (threads = CPUs, 1 MiB members),
  which also fsyncs the file and its directory before returning (the others don't: a handicap
  for us, kept because it is what the API does).

Wall clock around each run, median of ``--runs`` rounds (default 3). Every output is checked:
``gzip -dc`` of ours gives back the input byte for byte, and its SHA-256 is the report's.
Targets (issue 5): throughput >= 4x gzip -6 and >= 1.8x pigz -6 -p 2, size <= 1.0x gzip -6.

Options: ``--size-mb N`` (200), ``--runs N`` (3), ``--threads N`` (None = CPUs).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

from common import fmt_s, median, print_table, timed

HERE = Path(__file__).resolve().parent
VAR = HERE / "var" / "compress"
GENERATOR_VERSION = 2

PRODUCTS = (
    "Pan amasado|Hallulla|Marraqueta|Pan integral|Pan de molde|Croissant|Medialuna|Berlín|"
    "Empanada de pino|Empanada de queso|Torta mil hojas|Kuchen de manzana|Queque de vainilla|"
    "Alfajor|Galletas de avena|Pan de pascua|Calzones rotos|Sopaipilla|Dobladita|Coliza|"
    "Pastel chocolate|Brazo de reina|Pie de limón|Tartaleta de frutilla|Chilenito|Cachito"
).split("|")
BRANDS = ("Fornería", "Dulcería Lilis", "Amasandería", "Fornería")
PAYMENTS = (
    "efectivo",
    "efectivo",
    "tarjeta_debito",
    "tarjeta_debito",
    "tarjeta_credito",
    "transferencia",
)
CLIENT_NAMES = (
    "Juan Pérez|María González|Pedro Muñoz|Ana Rojas|Luis Díaz|Carmen Soto|José Contreras|"
    "Francisca Silva|Diego Martínez|Valentina Sepúlveda|Jorge Morales|Camila Rodríguez"
).split("|")

# The shop's tables as its production export writes them (phpMyAdmin: column lists, one row
# per line, extended INSERTs); the columns are those of forneria_produccion_2025-12.sql.
TABLES = {
    "ventas": "`id`, `fecha`, `total_sin_iva`, `total_iva`, `descuento`, `total_con_iva`, "
    "`canal_venta`, `folio`, `medio_pago`, `monto_pagado`, `vuelto`, `clientes_id`",
    "detalle_venta": "`id`, `cantidad`, `precio_unitario`, `descuento_pct`, `ventas_id`, "
    "`productos_id`",
    "historial_boletas": "`id`, `venta_id`, `folio`, `fecha_emision`, `fecha_venta`, "
    "`cliente_nombre`, `total_con_iva`, `num_productos`, `canal_venta`, `datos_boleta`, "
    "`usuario_emisor`, `modificado`, `fecha_modificacion`, `observaciones`",
    "movimientos_inventario": "`id`, `tipo_movimiento`, `cantidad`, `fecha`, `productos_id`, "
    "`origen`, `referencia_id`, `tipo_referencia`",
    "lotes": "`id`, `productos_id`, `detalle_factura_proveedor_id`, `numero_lote`, `cantidad`, "
    "`cantidad_inicial`, `fecha_elaboracion`, `fecha_caducidad`, `fecha_recepcion`, `origen`, "
    "`estado`, `creado`, `modificado`",
}
ROWS_PER_INSERT = 1000


class _Part:
    """One table's rows, in extended INSERTs of ROWS_PER_INSERT rows, in a temporary file."""

    def __init__(self, path: Path, table: str) -> None:
        self.path, self.table, self.rows, self.bytes = path, table, 0, 0
        self.fh = open(path, "w", encoding="utf-8", newline="\n")

    def add(self, row: str) -> None:
        if self.rows % ROWS_PER_INSERT == 0:
            head = ";\n\n" if self.rows else ""
            text = f"{head}INSERT INTO `{self.table}` ({TABLES[self.table]}) VALUES\n{row}"
        else:
            text = ",\n" + row
        self.fh.write(text)
        self.bytes += len(text.encode())
        self.rows += 1

    def close(self) -> None:
        if self.rows:
            self.fh.write(";\n")
        self.fh.close()


def generate(path: Path, size: int, seed: int = 20251210) -> None:
    """The shop's production export at scale: about ``size`` bytes of a simulated sales
    history (sales in time order, their lines, stock movements, receipts with their JSON, daily
    production lots), written as the shop's export is. The same bytes for the same arguments."""
    import datetime as dt
    import json

    rng = random.Random(seed)
    products = [
        (
            i,
            f"{name}{'' if i <= len(PRODUCTS) else f' {i}'}",
            BRANDS[i % len(BRANDS)],
            rng.choice((500, 800, 1000, 1200, 1500, 2000, 2500, 3500, 6000, 12000, 20000)),
        )
        for i, name in enumerate(PRODUCTS * 12, start=1)
    ]
    popular = products[:40]
    parts = {t: _Part(path.with_name(f".{path.name}.{t}"), t) for t in TABLES}
    ids = dict.fromkeys(TABLES, 0)
    clock = dt.datetime(2023, 1, 2, 8, 0, 0)
    day = None

    def nxt(table: str) -> int:
        ids[table] += 1
        return ids[table]

    while sum(p.bytes for p in parts.values()) < size:
        clock += dt.timedelta(seconds=int(rng.expovariate(1 / 140)) + 5)
        if clock.hour >= 21:
            clock = (clock + dt.timedelta(days=1)).replace(hour=7, minute=rng.randint(0, 30))
        if clock.date() != day:  # the morning's production lots
            day = clock.date()
            for pid, _, _, _ in rng.sample(products, 25):
                qty = rng.choice((10, 20, 24, 30, 40, 50))
                made = clock.replace(hour=6, minute=rng.randint(0, 59), second=rng.randint(0, 59))
                lot = nxt("lotes")
                parts["lotes"].add(
                    f"({lot}, {pid}, NULL, 'prod-{day:%d-%m}-{pid}', {qty}.000, {qty}.000, "
                    f"'{day}', '{day + dt.timedelta(days=rng.choice((2, 3, 5, 7)))}', "
                    f"'{made:%Y-%m-%d %H:%M:%S}', 'produccion_propia', 'activo', "
                    f"'{made:%Y-%m-%d %H:%M:%S}', '{made:%Y-%m-%d %H:%M:%S}')"
                )
        sale = nxt("ventas")
        when = clock.strftime("%Y-%m-%d %H:%M:%S")
        folio = f"BOL-{clock:%Y%m%d%H%M%S}"
        lines = []
        for prod in rng.sample(popular if rng.random() < 0.8 else products, rng.randint(1, 4)):
            qty = rng.choice((1, 1, 1, 2, 2, 3, 6, 12))
            disc = 10 if rng.random() < 0.05 else 0
            lines.append((prod, qty, disc))
        total = sum(p[3] * q * (100 - d) / 100 for p, q, d in lines)
        net = round(total / 1.19, 2)
        pay = rng.choice(PAYMENTS)
        paid = total if pay != "efectivo" else -(-total // 1000) * 1000
        client = 1 if rng.random() < 0.85 else rng.randint(2, 600)
        cname = "Cliente Genérico" if client == 1 else CLIENT_NAMES[client % len(CLIENT_NAMES)]
        parts["ventas"].add(
            f"({sale}, '{when}', {net:.2f}, {total - net:.2f}, 0.00, {total:.2f}, 'presencial', "
            f"'{folio}', '{pay}', {paid:.2f}, {paid - total:.2f}, {client})"
        )
        for prod, qty, disc in lines:
            parts["detalle_venta"].add(
                f"({nxt('detalle_venta')}, {qty}, {prod[3]}.00, {disc}.00, {sale}, {prod[0]})"
            )
            parts["movimientos_inventario"].add(
                f"({nxt('movimientos_inventario')}, 'salida', {qty}, '{when}', {prod[0]}, "
                f"'venta', {sale}, 'venta')"
            )
        micro = rng.randint(0, 999_999)
        doc = {
            "cabecera": {
                "pago": {"vuelto": None, "medio_pago": pay, "monto_pagado": f"{paid:.0f}"},
                "fecha": f"{clock:%Y-%m-%dT%H:%M:%S}.{micro:06d}+00:00",
                "folio": folio,
                "cliente": {"id": client, "rut": None, "nombre": cname},
                "totales": {
                    "descuento": "0",
                    "total_iva": f"{total - net:.2f}",
                    "total_con_iva": f"{total:.2f}",
                    "subtotal_sin_iva": f"{net:.2f}",
                },
                "canal_venta": "presencial",
            },
            "detalles": [
                {
                    "cantidad": str(q),
                    "producto": {"id": p[0], "marca": p[2], "nombre": p[1]},
                    "subtotal": f"{p[3] * q * (100 - d) / 100:.2f}",
                    "descuento_pct": f"{d}.00",
                    "precio_unitario": f"{p[3]}.00",
                }
                for p, q, d in lines
            ],
        }
        text = json.dumps(doc, ensure_ascii=False).replace('"', '\\"')
        parts["historial_boletas"].add(
            f"({nxt('historial_boletas')}, {sale}, '{folio}', '{when}.{micro + 43000:06d}', "
            f"'{when}.{micro:06d}', '{cname}', {total:.2f}, {len(lines)}, 'presencial', "
            f"'{text}', '{rng.choice(('admin', 'vendedor', 'vendedor'))}', 0, NULL, NULL)"
        )
    for part in parts.values():
        part.close()

    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write(
            "-- phpMyAdmin SQL Dump\n-- version 5.2.1\n-- https://www.phpmyadmin.net/\n--\n"
            "-- Servidor: 127.0.0.1\n-- Base de datos: `forneria`\n--\n\n"
            'SET SQL_MODE = "NO_AUTO_VALUE_ON_ZERO";\nSTART TRANSACTION;\n'
            'SET time_zone = "+00:00";\n\n/*!40101 SET NAMES utf8mb4 */;\n\n'
        )
        for table in TABLES:
            out.write(
                "-- --------------------------------------------------------\n\n"
                f"--\n-- Volcado de datos para la tabla `{table}`\n--\n\n"
            )
            with open(parts[table].path, encoding="utf-8") as fh:
                shutil.copyfileobj(fh, out)
            out.write("\n")
            parts[table].path.unlink()
        out.write("COMMIT;\n")
    os.replace(tmp, path)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench compress")
    p.add_argument("--size-mb", type=int, default=200)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--threads", type=int, default=None)
    return p.parse_args(argv)


def main(argv: list[str]) -> None:
    import forneria_ops

    args = parse(argv)
    for tool in ("gzip", "pigz"):
        if shutil.which(tool) is None:
            sys.exit(f"bench compress: {tool} is not installed (apt-get install {tool})")
    VAR.mkdir(parents=True, exist_ok=True)
    src = VAR / f"dump-{args.size_mb}mb-v{GENERATOR_VERSION}.sql"
    if not src.exists():
        print(f"generating {src} ({args.size_mb} MB, fixed seed)...", flush=True)
        seconds, _ = timed(lambda: generate(src, args.size_mb * 1_000_000))
        print(f"  generated in {fmt_s(seconds)}")
    size = src.stat().st_size
    subprocess.run(["cat", str(src)], stdout=subprocess.DEVNULL, check=True)  # into page cache
    cpus = len(os.sched_getaffinity(0))
    print(
        f"input: {src.name}, {size / 1e6:.1f} MB; {cpus} CPU(s); {args.runs} rounds; "
        f"forneria_ops {forneria_ops.__version__}"
    )

    outs = {name: VAR / f"out-{name}.gz" for name in ("gzip", "pigz", "forneria")}

    def shell(cmd: list[str], out: Path):
        def go():
            with open(out, "wb") as fh:
                subprocess.run(cmd + [str(src)], stdout=fh, check=True)

        return go

    tools = {
        "gzip -6": (shell(["gzip", "-6", "-c"], outs["gzip"]), outs["gzip"]),
        "pigz -6 -p 2": (shell(["pigz", "-6", "-p", "2", "-c"], outs["pigz"]), outs["pigz"]),
        "forneria_ops.compress": (
            lambda: forneria_ops.compress(
                src, outs["forneria"], level=6, threads=args.threads, overwrite=True
            ),
            outs["forneria"],
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in tools}
    report = None
    for r in range(args.runs):
        for name, (fn, _) in tools.items():
            seconds, result = timed(fn)
            times[name].append(seconds)
            if isinstance(result, dict):
                report = result
            print(f"  round {r + 1}: {name:22} {fmt_s(seconds)}", flush=True)

    # Our output is a standard gzip file with the input inside, and the report tells the truth.
    check = subprocess.run(
        f"gzip -dc {outs['forneria']} | sha256sum", shell=True, capture_output=True, check=True
    )
    assert check.stdout.split()[0].decode() == sha256_of(src), "gzip -dc gave other bytes"
    assert report is not None and report["sha256"] == sha256_of(outs["forneria"])

    med = {name: median(t) for name, t in times.items()}
    sizes = {name: path.stat().st_size for name, (_, path) in tools.items()}
    rows = []
    for name in tools:
        rows.append(
            [
                name,
                fmt_s(med[name]),
                f"{size / 1e6 / med[name]:.1f}",
                f"{sizes[name] / 1e6:.2f} MB",
                f"{sizes[name] / size * 100:.2f} %",
                ", ".join(fmt_s(t) for t in times[name]),
            ]
        )
    print()
    print_table(["tool", "median", "MB/s", "output", "of input", "runs"], rows)
    ours = "forneria_ops.compress"
    vs_gzip = med["gzip -6"] / med[ours]
    vs_pigz = med["pigz -6 -p 2"] / med[ours]
    size_ratio = sizes[ours] / sizes["gzip -6"]
    print()
    print(f"  throughput vs gzip -6:       {vs_gzip:.2f}x  (target >= 4x)  {_ok(vs_gzip >= 4)}")
    print(f"  throughput vs pigz -6 -p 2:  {vs_pigz:.2f}x  (target >= 1.8x)  {_ok(vs_pigz >= 1.8)}")
    print(
        f"  size vs gzip -6:             {size_ratio:.4f}x  (target <= 1.0x)  "
        f"{_ok(size_ratio <= 1.0)}"
    )
    print(f"  ours: {report['members']} members, {report['threads']} threads, sha256 verified")
    for path in outs.values():
        path.unlink(missing_ok=True)


def _ok(passed: bool) -> str:
    return "PASS" if passed else "MISS"


if __name__ == "__main__":
    main(sys.argv[1:])
