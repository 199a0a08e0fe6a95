"""forneria_ops.compress / decompress / verify on real files, read back by gzip -d and Python."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import stat
import subprocess

import forneria_ops
import pytest
from forneria_ops import ConfigError, CorruptFileError, FileError

pytestmark = pytest.mark.filterwarnings("error")


def sql_text(rows: int) -> bytes:
    lines = [
        f"INSERT INTO `ventas` VALUES ({i},'2025-12-{i % 28 + 1:02d}',"
        f"{i * 37 % 1000}.50,'cliente {i % 97}');"
        for i in range(rows)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def sql_file(tmp_path):
    p = tmp_path / "dump.sql"
    p.write_bytes(sql_text(60_000))  # ~4 MB: several 1 MiB members
    p.chmod(0o640)
    return p


def test_round_trip_with_gzip_and_python(sql_file, tmp_path):
    data = sql_file.read_bytes()
    rep = forneria_ops.compress(sql_file, threads=2)
    gz = tmp_path / "dump.sql.gz"
    assert rep["output"] == str(gz)
    assert rep["path"] == str(sql_file)
    assert rep["bytes_in"] == len(data)
    assert rep["bytes_out"] == gz.stat().st_size
    assert rep["bytes_out"] < len(data) / 4
    assert rep["saved_bytes"] == len(data) - rep["bytes_out"]
    assert rep["members"] == -(-len(data) // (1 << 20))
    assert rep["sha256"] == hashlib.sha256(gz.read_bytes()).hexdigest()
    assert rep["threads"] == 2 and rep["level"] == 6 and rep["kept"] is True
    assert rep["seconds"] > 0 and rep["mb_per_s"] > 0
    assert sql_file.exists()
    # The source's permission bits, as gzip does.
    assert stat.S_IMODE(gz.stat().st_mode) == 0o640
    # Standard tools read the multi-member file as one stream.
    assert gzip.decompress(gz.read_bytes()) == data
    if shutil.which("gzip"):
        out = subprocess.run(["gzip", "-dc", str(gz)], capture_output=True, check=True).stdout
        assert out == data
        subprocess.run(["gzip", "-t", str(gz)], check=True)
    # And back with the engine.
    sql_file.unlink()
    back = forneria_ops.decompress(gz)
    assert back["output"] == str(sql_file)
    assert back["bytes_out"] == len(data)
    assert back["sha256"] == rep["sha256"]
    assert sql_file.read_bytes() == data
    ver = forneria_ops.verify(gz, expected_sha256=rep["sha256"].upper())
    assert ver["members"] == rep["members"] and ver["bytes_out"] == len(data)


def test_reads_what_gzip_wrote(sql_file, tmp_path):
    if not shutil.which("gzip"):
        pytest.skip("gzip not installed")
    data = sql_file.read_bytes()
    subprocess.run(["gzip", "-k", "-6", str(sql_file)], check=True)
    gz = tmp_path / "dump.sql.gz"
    out = tmp_path / "copy.sql"
    rep = forneria_ops.decompress(gz, out)
    assert out.read_bytes() == data and rep["members"] == 1


def test_output_is_deterministic_and_options(sql_file, tmp_path):
    a = forneria_ops.compress(sql_file, tmp_path / "a.gz", threads=1, block_size=256 * 1024)
    b = forneria_ops.compress(sql_file, tmp_path / "b.gz", threads=3, block_size=256 * 1024)
    assert a["sha256"] == b["sha256"] and a["members"] == b["members"] > 4
    fast = forneria_ops.compress(sql_file, tmp_path / "c.gz", level=2, mode=0o600)
    assert stat.S_IMODE(os.stat(fast["output"]).st_mode) == 0o600
    assert gzip.decompress((tmp_path / "c.gz").read_bytes()) == sql_file.read_bytes()


def test_keep_false_removes_the_source_after(sql_file, tmp_path):
    data = sql_file.read_bytes()
    rep = forneria_ops.compress(sql_file, keep=False)
    assert not sql_file.exists() and rep["kept"] is False
    forneria_ops.decompress(rep["output"], keep=False)
    assert sql_file.read_bytes() == data
    assert not os.path.exists(rep["output"])


def test_existing_output_is_refused_unless_overwrite(sql_file, tmp_path):
    gz = tmp_path / "dump.sql.gz"
    gz.write_bytes(b"old")
    with pytest.raises(FileError, match="already exists"):
        forneria_ops.compress(sql_file)
    assert gz.read_bytes() == b"old"
    forneria_ops.compress(sql_file, overwrite=True)
    assert gzip.decompress(gz.read_bytes()) == sql_file.read_bytes()


def test_bad_arguments(sql_file, tmp_path):
    with pytest.raises(ConfigError, match="level"):
        forneria_ops.compress(sql_file, level=10)
    with pytest.raises(ConfigError, match="threads"):
        forneria_ops.compress(sql_file, threads=0)
    with pytest.raises(FileError, match="no such file"):
        forneria_ops.compress(tmp_path / "missing.sql")
    with pytest.raises(ConfigError, match="no .gz suffix"):
        forneria_ops.decompress(sql_file)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump.sql"]


@pytest.mark.parametrize(
    "damage",
    ["flip_byte", "truncate", "not_gzip", "trailing_garbage", "wrong_checksum"],
)
def test_corrupt_file_raises_and_leaves_nothing(sql_file, tmp_path, damage):
    rep = forneria_ops.compress(sql_file)
    gz = tmp_path / "dump.sql.gz"
    raw = bytearray(gz.read_bytes())
    expected = None
    if damage == "flip_byte":
        raw[len(raw) // 2] ^= 0xFF
    elif damage == "truncate":
        raw = raw[: len(raw) - 100]
    elif damage == "not_gzip":
        raw = bytearray(b"-- MySQL dump, not compressed\n" * 10)
    elif damage == "trailing_garbage":
        raw += b"garbage"
    else:
        expected = "0" * 64
    gz.write_bytes(bytes(raw))
    out = tmp_path / "out.sql"
    with pytest.raises(CorruptFileError) as info:
        forneria_ops.verify(gz, expected_sha256=expected)
    assert str(gz) in str(info.value) and info.value.kind == "corrupt"
    with pytest.raises(CorruptFileError):
        forneria_ops.decompress(gz, out, expected_sha256=expected)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert isinstance(rep["sha256"], str)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.log"
    p.write_bytes(b"")
    rep = forneria_ops.compress(p)
    assert rep["bytes_in"] == 0
    with open(rep["output"], "rb") as fh:
        assert gzip.decompress(fh.read()) == b""
    assert forneria_ops.verify(rep["output"])["bytes_out"] == 0


def test_ctrl_c_stops_the_work_and_leaves_no_file(tmp_path):
    """SIGINT while the engine compresses: KeyboardInterrupt, no output, no temporary file."""
    import signal
    import sys
    import time

    src = tmp_path / "big.sql"
    with open(src, "wb") as fh:
        for _ in range(36):
            fh.write(sql_text(60_000))  # ~150 MB: seconds of work at level 9 on one thread
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, forneria_ops\n"
            "print('go', flush=True)\n"
            "try:\n"
            f"    forneria_ops.compress({str(src)!r}, level=9, threads=1, block_size=65536)\n"
            "except KeyboardInterrupt:\n"
            "    print('interrupted', flush=True); sys.exit(3)\n"
            "print('finished', flush=True)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "go"
    # Signal once the engine's temporary output exists: the work has really started.
    deadline = time.monotonic() + 30
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    assert child.returncode == 3 and out.strip() == "interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.sql"]
