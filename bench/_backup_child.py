"""One forneria-ops backup or restore in a fresh process, for bench_backup: prints a JSON line
with the wall time around the call and the report. The parent measures the process's peak RSS
(``RUSAGE_CHILDREN``)."""

from __future__ import annotations

import json
import os
import sys
import time

import common  # noqa: F401  (puts tests_py on sys.path)
from support.mariadb import ThrowawayMariaDB


def main() -> None:
    what, database, path = sys.argv[1], sys.argv[2], sys.argv[3]
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    server = ThrowawayMariaDB.from_env()
    settings = server.django_settings(database, via_socket=True)
    import forneria_ops._core as core

    t0 = time.perf_counter()
    if what == "backup":
        report = core.backup(settings, path, threads=threads, name=os.environ["BENCH_NAME"])
        out = {"file": report["file"], "bytes": report["bytes_compressed"]}
    else:
        report = core.restore(
            settings, path, target_database=os.environ["BENCH_TARGET"], threads=threads
        )
        out = {"statements": report["statements"]}
    out["seconds"] = time.perf_counter() - t0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
