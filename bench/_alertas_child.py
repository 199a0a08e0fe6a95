"""One generar_alertas run in a fresh process, for bench_alertas: prints a JSON line with the
wall time around the call and the process's peak RSS (the whole Python process: Django, the
engine and everything the run allocated)."""

from __future__ import annotations

import json
import os
import sys
import time

from common import peak_rss_mb_self, setup_django
from support.mariadb import ThrowawayMariaDB


def main() -> None:
    fecha, wait = sys.argv[1], float(sys.argv[2])
    server = ThrowawayMariaDB.from_env()
    setup_django({"bench": server.django_settings(os.environ["BENCH_DATABASE"])})
    import forneria_ops

    baseline = peak_rss_mb_self()
    t0 = time.perf_counter()
    report = forneria_ops.generar_alertas_informe(
        using="bench", fecha=fecha, wait=wait, detail=False
    )
    seconds = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak_rss_mb_self(),
                "baseline_mb": baseline,
                "created": report["created"],
                "updated": report["updated"],
                "resolved": report["resolved"],
                "engine_ms": report["timings"],
            }
        )
    )


if __name__ == "__main__":
    main()
