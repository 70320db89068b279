"""Input limits (issue 22): inputs built to exhaust time or memory end in one clear line within seconds.

Each case of the issue's table is a test: the CLI (``python -m hcc analyze --data FILE``) must print one
``error: …`` line on stderr, exit with status 2, show no traceback, and stay within a time and peak
memory bound measured on that subprocess alone (:data:`_MEASURE`). The bounds are generous for a loaded
2-core machine (the failures they catch took 43 s to over 5 minutes and 2.2–5.3 GB). The app's path
is the same :mod:`hcc.ingest.io` function raising :class:`DataFileError`, which the Data page shows.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
import tomllib
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from hcc.ingest import io as hio
from hcc.errors import DataFileError
from hcc.ingest.io import MAX_BYTES, MAX_COLUMNS, MAX_ROWS, MAX_UPLOAD_MB, read_table
from hcc.ingest.registry import read_sources
from tests.conftest import registry_csv

ROOT = Path(__file__).resolve().parent.parent
#: Bounds on a refused input's CLI run (interpreter start and imports included): CPU seconds (user +
#: system, which other jobs on a loaded machine barely change; wall time is only bounded by the kill
#: after ``WALL_SECONDS``, which also catches a read blocked on a pipe) and peak resident memory.
CPU_SECONDS = 20.0
WALL_SECONDS = 180.0
PEAK_MB = 1024


def run_cli(tmp_path: Path, *args: str, timeout: float = WALL_SECONDS) -> tuple[int, str, float, float]:
    """``python -m hcc analyze --data ARGS`` as a subprocess (see :func:`run_python`)."""
    return run_python(tmp_path, "-m", "hcc", "analyze", "--data", *args, timeout=timeout)


#: Runs a command and writes its exit status, CPU seconds and peak RSS (KB). A small interpreter in
#: between because Linux carries the forking process's resident size into a child's ``ru_maxrss``:
#: measured straight from pytest, a refusal would count pytest's own (growing) memory.
_MEASURE = """import resource, subprocess, sys
out, timeout, cmd = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
try:
    status = subprocess.run(cmd, timeout=timeout).returncode
except subprocess.TimeoutExpired:
    status = -9
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as handle:
    handle.write(f"{status} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
"""


def run_python(tmp_path: Path, *args: str, timeout: float = WALL_SECONDS) -> tuple[int, str, float, float]:
    """``python ARGS`` as a subprocess, killed after ``timeout`` seconds: exit status, stderr, CPU
    seconds and peak resident memory in MB of that process alone (see :data:`_MEASURE`)."""
    out, err, measured = tmp_path / "stdout.txt", tmp_path / "stderr.txt", tmp_path / "measured.txt"
    start = time.monotonic()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        subprocess.run([sys.executable, "-S", "-c", _MEASURE, str(measured), str(timeout), sys.executable, *args],
                       cwd=ROOT, stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, check=True)
    status, cpu, peak_kb = measured.read_text().split()
    print(f"{args[-1]}: {time.monotonic() - start:.1f} s wall, {float(cpu):.1f} s CPU, peak {int(peak_kb) / 1024:.0f} MB")
    return int(status), err.read_text(encoding="utf-8"), float(cpu), int(peak_kb) / 1024


def assert_refused(tmp_path: Path, path: Path | str, message: str, *, seconds: float = CPU_SECONDS,
                   peak_mb: float = PEAK_MB) -> None:
    status, stderr, cpu, peak = run_cli(tmp_path, str(path))
    lines = stderr.strip().splitlines()
    assert status == 2, (status, stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-2000:]
    assert "Traceback" not in stderr
    assert message in lines[0], lines[0]
    assert cpu < seconds, f"refused after {cpu:.1f} s of CPU"
    assert peak < peak_mb, f"peak memory {peak:.0f} MB"


# CSV --------------------------------------------------------------------------------------------------

def _header_only(n_columns: int) -> bytes:
    return ",".join(f"c{i}" for i in range(n_columns)).encode() + b"\n"


def test_header_only_csv_with_a_million_columns_is_refused_from_its_header(tmp_path) -> None:
    path = tmp_path / "wide.csv"
    path.write_bytes(_header_only(1_000_000))
    assert_refused(tmp_path, path, f"1,000,000 columns; the limit is {MAX_COLUMNS:,}")


def test_csv_with_a_million_columns_and_rows_is_refused_from_its_header(tmp_path) -> None:
    """A million columns in the header and rows of a million cells: refused before pandas parses a row."""
    row = b"1," * 999_999 + b"1\n"
    path = tmp_path / "wide_rows.csv"
    with path.open("wb") as handle:
        handle.write(_header_only(1_000_000))
        for _ in range(40):  # 80 MB
            handle.write(row)
    assert_refused(tmp_path, path, f"1,000,000 columns; the limit is {MAX_COLUMNS:,}")


def test_csv_with_more_rows_than_the_limit_stops_reading_at_the_limit(tmp_path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"patient_id\n" + b"P\n" * (MAX_ROWS + 10))
    assert_refused(tmp_path, path, f"more than {MAX_ROWS:,} rows")


def test_a_million_rows_still_load_in_process() -> None:
    """The app is sized for 1,000,000-patient registries: the row limit must not refuse them."""
    data = b"patient_id,center\n" + b"".join(b"P%d,C1\n" % i for i in range(1_000_000))
    raw = read_table(data, "million.csv")
    assert raw.cells.shape == (1_000_000, 2) and raw.cells.iloc[-1, 0] == "P999999"


def test_cell_limit_counts_rows_times_columns(monkeypatch) -> None:
    monkeypatch.setattr(hio, "MAX_CELLS", 30)
    data = b"a,b,c\n" + b"1,2,3\n" * 11  # 33 cells
    with pytest.raises(DataFileError, match="more than 30 cells"):
        read_table(data, "cells.csv")
    assert read_table(b"a,b,c\n" + b"1,2,3\n" * 10, "cells.csv").cells.shape == (10, 3)


def test_app_path_refuses_a_million_columns_in_bounded_memory() -> None:
    """What the Data page calls (read_sources) raises the DataFileError it shows, holding far less
    than the file's parsed table (tracemalloc peak, Python allocations)."""
    data = _header_only(1_000_000)
    tracemalloc.start()
    start = time.process_time()
    try:
        with pytest.raises(DataFileError, match=r"wide\.csv: the file has 1,000,000 columns"):
            read_sources([("wide.csv", data)])
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.process_time() - start < CPU_SECONDS
    assert peak < 400 * 2**20, f"{peak / 2**20:.0f} MB"


# Not a regular file, or too large before reading ------------------------------------------------------

def test_dev_zero_is_refused_without_reading(tmp_path) -> None:
    assert_refused(tmp_path, "/dev/zero", "not a regular file")


def test_a_pipe_is_refused_without_blocking(tmp_path) -> None:
    fifo = tmp_path / "registry.csv"
    os.mkfifo(fifo)
    assert_refused(tmp_path, fifo, "not a regular file")


def test_a_3_gb_sparse_file_is_refused_by_its_size_before_reading(tmp_path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(3 * 2**30)
    assert_refused(tmp_path, path, f"the file is 3,072.0 MB; the limit is {MAX_UPLOAD_MB} MB")


def test_a_growing_file_is_read_only_up_to_the_limit(tmp_path, monkeypatch) -> None:
    """A file whose size is not known in advance (stat says less than is read) stops at MAX_BYTES + 1."""
    monkeypatch.setattr(hio, "MAX_BYTES", 1000)
    path = tmp_path / "grows.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 500)
    real_stat = Path.stat
    monkeypatch.setattr(Path, "stat", lambda self, **kw: os.stat_result((*real_stat(self, **kw)[:6], 10, 0, 0, 0)))
    with pytest.raises(DataFileError, match="limit is"):
        hio.read_file(path)


# Upload limit: one number ------------------------------------------------------------------------------

def test_upload_limit_agrees_with_the_server_config() -> None:
    """Streamlit's server accepts maxUploadSize * 1024 * 1024 bytes (starlette_routes.py: "maxUploadSize is
    in megabytes"); MAX_BYTES is that same number, and the message uses the uploader's unit (MB)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB
    assert MAX_BYTES == config["server"]["maxUploadSize"] * 1024 * 1024 == 209_715_200
    with pytest.raises(DataFileError) as refused:
        hio.read_table(b"x" * (MAX_BYTES + 1), "big.csv")
    assert str(refused.value).startswith(f"big.csv: the file is 200.1 MB; the limit is {MAX_UPLOAD_MB} MB.")


# Excel --------------------------------------------------------------------------------------------------

_CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                  b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                  b'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                  b'"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
                  b'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
                  b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
         b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
             b'2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
             b'name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                  b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                  b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><%sworksheet xmlns%s="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><%ssheetData>')
_SHEET_TAIL = b"</%ssheetData></%sworksheet>"


def _xlsx(path: Path, rows: bytes | list[bytes], padding: int = 0, prefix: bytes = b"") -> None:
    """A minimal workbook whose sheet holds ``rows`` (XML, written in chunks) and, to make the
    archive's overall expansion ratio look harmless, ``padding`` incompressible stored bytes;
    ``prefix`` (``b"x"``) writes the sheet's tags with a namespace prefix."""
    tag = prefix + b":" if prefix else b""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_HEAD % (tag, b":" + prefix if prefix else b"", tag))
            for chunk in ([rows] if isinstance(rows, bytes) else rows):
                sheet.write(chunk)
            sheet.write(_SHEET_TAIL % (tag, tag))
        if padding:
            archive.writestr(zipfile.ZipInfo("xl/media/padding.bin"), random.randbytes(padding),
                             compress_type=zipfile.ZIP_STORED)


@pytest.mark.slow
def test_padded_zip_bomb_xlsx_is_refused_before_parsing(tmp_path) -> None:
    """250 MB of sheet XML in ~1.5 MB, padded with incompressible bytes so that the archive as a whole
    stays under the 200x expansion ratio: the sheet member's own ratio gives it away."""
    row = b"<row><c><v>1</v></c></row>" * 40_000  # ~1 MB
    path = tmp_path / "bomb.xlsx"
    _xlsx(path, [row] * 250, padding=2 * 2**20)
    infos = zipfile.ZipFile(path).infolist()
    total = sum(i.file_size for i in infos)
    assert total > 250 * 10**6 and total < hio.MAX_EXPANSION * path.stat().st_size  # passes the old check
    assert_refused(tmp_path, path, "refused as unsafe")


def test_xlsx_row_reaching_column_xfd_is_refused_at_that_row(tmp_path) -> None:
    """One cell in Excel's last column: pandas' reader padded every row to 16,384 columns."""
    rows = b'<row r="1"><c r="A1" t="inlineStr"><is><t>patient_id</t></is></c><c r="XFD1"><v>1</v></c></row>'
    rows += b"".join(b'<row r="%d"><c r="XFD%d"><v>1</v></c></row>' % (i, i) for i in range(2, 200_000))
    path = tmp_path / "xfd.xlsx"
    _xlsx(path, rows)
    assert_refused(tmp_path, path, f"at least 16,384 columns; the limit is {MAX_COLUMNS:,}")


def test_xlsx_with_rows_past_excels_last_row_is_refused(tmp_path) -> None:
    """A row numbered past 1,048,576 (the empty rows before it are generated by the reader)."""
    rows = b'<row r="1"><c r="A1" t="inlineStr"><is><t>patient_id</t></is></c></row><row r="2000000"><c r="A2000000">' \
           b'<v>1</v></c></row>'
    path = tmp_path / "tall.xlsx"
    _xlsx(path, rows)
    assert_refused(tmp_path, path, "more than 1,048,576 rows")


def test_xlsx_cells_are_counted_in_the_xml_before_openpyxl_parses_it(tmp_path, monkeypatch) -> None:
    """A sheet of many small cells passes every ratio check; its cells are counted in the decompressed
    XML (including tags split across read chunks) and it is refused before any row is parsed."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c><c r="B%d"><v>1</v></c></row>' % (i, i, i, i)
                    for i in range(1, 3001))
    path = tmp_path / "cells.xlsx"
    _xlsx(path, rows)
    monkeypatch.setattr(hio, "_CHUNK", 7)  # tags split across chunks: each still counted once
    monkeypatch.setattr(hio, "MAX_XLSX_CELLS", 6000)
    assert read_table(path.read_bytes(), path.name).cells.shape == (2999, 2)  # 6,000 cells: at the limit
    monkeypatch.setattr(hio, "MAX_XLSX_CELLS", 5999)
    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", None)  # parsing the sheet would fail the test
    with pytest.raises(DataFileError, match="more than 5,999 cells in the sheet"):
        read_table(path.read_bytes(), path.name)


def test_xlsx_cells_with_prefixed_tags_are_counted_while_streaming(tmp_path, monkeypatch) -> None:
    """Tags with a namespace prefix (<x:c>, as some .NET writers emit) escape the XML count; the
    row-by-row budget stops them."""
    rows = b"".join(b'<x:row r="%d"><x:c r="A%d"><x:v>%d</x:v></x:c></x:row>' % (i, i, i) for i in range(1, 101))
    path = tmp_path / "prefixed.xlsx"
    _xlsx(path, rows, prefix=b"x")
    data = path.read_bytes()
    assert read_table(data, path.name).cells.shape == (99, 1)
    monkeypatch.setattr(hio, "MAX_XLSX_CELLS", 50)
    with pytest.raises(DataFileError, match="more than 50 cells in the sheet"):
        read_table(data, path.name)


# Parquet, SPSS, Stata: metadata first -----------------------------------------------------------------

def test_parquet_of_50_million_rows_is_refused_from_its_metadata(tmp_path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "rows.parquet"
    pq.write_table(pa.table({"patient_id": pa.nulls(50_000_000)}), path)
    assert path.stat().st_size < 200_000
    assert_refused(tmp_path, path, f"50,000,000 rows; the limit is {MAX_ROWS:,}")


def test_parquet_unpacking_past_the_limit_is_refused_from_its_metadata(monkeypatch) -> None:
    import pandas as pd

    buffer = io.BytesIO()
    pd.DataFrame({"patient_id": ["P%06d" % i for i in range(20_000)]}).to_parquet(buffer)
    monkeypatch.setattr(hio, "MAX_UNCOMPRESSED_BYTES", 10_000)
    with pytest.raises(DataFileError, match="unpacks to"):
        read_table(buffer.getvalue(), "big.parquet")


@pytest.mark.parametrize("ending", ["sav", "dta"])
def test_spss_and_stata_row_counts_are_checked_from_the_header(monkeypatch, tmp_path, ending) -> None:
    import pandas as pd
    import pyreadstat

    path = tmp_path / f"r.{ending}"
    (pyreadstat.write_sav if ending == "sav" else pyreadstat.write_dta)(
        pd.DataFrame({"patient_id": [f"P{i}" for i in range(50)], "age": range(50)}), str(path))

    def metadata_only(real):
        def read(*args, metadataonly=False, **kwargs):
            assert metadataonly, "the whole file was read before its row count was checked"
            return real(*args, metadataonly=True, **kwargs)
        return read

    monkeypatch.setattr(pyreadstat, "read_sav", metadata_only(pyreadstat.read_sav))
    monkeypatch.setattr(pyreadstat, "read_dta", metadata_only(pyreadstat.read_dta))
    monkeypatch.setattr(pd, "read_stata", metadata_only(lambda *a, **k: None))
    monkeypatch.setattr(hio, "MAX_ROWS", 20)
    with pytest.raises(DataFileError, match="50 rows; the limit is 20"):
        read_table(path.read_bytes(), path.name)


# Mixed text encodings --------------------------------------------------------------------------------

def _with_rows(rows: list[bytes]) -> bytes:
    header = b"patient_id,regimen_1l,start_1l,date_last_followup,etiology\n"
    return header + b"".join(rows)


def test_mostly_utf8_with_a_windows_1252_row_warns_and_never_garbles_the_utf8_rows() -> None:
    rows = [f"P{i},SOR,2020-01-01,2021-01-01,Hépatite B\n".encode() for i in range(8)]
    rows.insert(4, "P99,SOR,2020-01-01,2021-01-01,Hépatite C\n".encode("cp1252"))
    raw = read_table(_with_rows(rows), "mixed.csv")
    assert raw.encoding == "utf-8-sig"
    assert raw.cells["etiology"].iloc[0] == "Hépatite B"  # Latin-1 would have made it "HÃ©patite B"
    assert raw.cells["etiology"].iloc[4] == "H\ufffdpatite C"
    assert len(raw.warnings) == 1 and "row(s) 6 contain characters in another encoding" in raw.warnings[0]


def _reencoded(data: bytes, rows: tuple[int, ...], encoding: str) -> bytes:
    """``data`` (UTF-8) with the given spreadsheet rows (header = 1) written in ``encoding`` instead."""
    lines = data.split(b"\n")
    for row in rows:
        lines[row - 1] = lines[row - 1].decode("utf-8").encode(encoding)
    return b"\n".join(lines)


def test_cp932_rows_in_a_utf8_file_are_named_in_the_registry_issues() -> None:
    from hcc.ingest.registry import load_source
    from hcc.ingest.validate import Rule

    data = _reencoded(registry_csv([{"center": "東京"}] * 30), (5, 19), "cp932")
    source = read_sources([("mixed.csv", data)])
    assert source.raw.cells["center"].iloc[0] == "東京"
    assert "row(s) 5, 19 contain" in source.raw.warnings[0]
    found = [i for i in load_source(source).issues if i.rule is Rule.TEXT_ENCODING]
    assert len(found) == 1 and "row(s) 5, 19" in found[0].text() and "'CSV UTF-8'" in found[0].text()


@pytest.mark.parametrize("encoding, text", [("cp932", "肝炎"), ("latin-1", "café")])
def test_a_file_wholly_in_one_legacy_encoding_reads_without_warning(encoding, text) -> None:
    rows = [f"P{i},SOR,2020-01-01,2021-01-01,{text}\n".encode(encoding) for i in range(5)]
    raw = read_table(_with_rows(rows), "legacy.csv")
    assert (raw.encoding, raw.warnings) == (encoding, ())
    assert (raw.cells["etiology"] == text).all()


def test_cli_prints_the_encoding_warning_on_stderr(tmp_path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(_reencoded(registry_csv([{"center": "Hôpital"}] * 4), (5,), "cp1252"))
    status, stderr, _elapsed, _peak = run_cli(tmp_path, str(path), "--stats", "km")
    assert status == 0, stderr
    assert "warning: mixed.csv: the file mixes text encodings: it is UTF-8, but row(s) 5 contain" in stderr


# The 199 MB registry: time and memory of loading -------------------------------------------------------

@pytest.fixture(scope="module")
def registry_199_mb(tmp_path_factory) -> Path:
    """A contract-conforming registry CSV just under the upload limit (~1.4 million patients): the
    benchmarks' generator, repeated with distinct patient codes."""
    from benchmarks.run import registry_bytes

    block = registry_bytes(50_000)
    header, body = block.split(b"\n", 1)
    path = tmp_path_factory.mktemp("big") / "registry.csv"
    with path.open("wb") as handle:
        handle.write(header + b"\n")
        k = 0
        while handle.tell() + len(body) < 199 * 2**20:
            handle.write(body.replace(b"SYN", b"S%02d" % k))
            k += 1
    return path


@pytest.mark.slow
def test_loading_a_199_mb_registry_csv_peaks_below_1_5_gb(tmp_path, registry_199_mb) -> None:
    """Read, map and validate (what the CLI and the Data page do before any analysis): 1.25 GB peak
    measured, file bytes included (before: a decoded text copy of the file, a second copy of every
    cell to strip spaces, three copies in the mapping and two of the typed table)."""
    status, stderr, _cpu, peak = run_python(
        tmp_path, "-c", "import sys; from hcc.ingest.registry import load_path; print(load_path(sys.argv[1]).n_patients)",
        str(registry_199_mb), timeout=1800)
    assert status == 0, stderr[-2000:]
    assert int((tmp_path / "stdout.txt").read_text()) > 1_300_000
    assert peak < 1536, f"peak memory {peak:.0f} MB"


@pytest.mark.slow
def test_a_199_mb_registry_csv_runs_km_within_2_gb(tmp_path, registry_199_mb) -> None:
    """``--stats km`` end to end: 2.74 GB peak before, 1.55 GB after; what it adds over loading is the
    analysis (issue 17)."""
    status, stderr, _cpu, peak = run_cli(tmp_path, str(registry_199_mb), "--stats", "km", timeout=1800)
    assert status == 0, stderr[-2000:]
    assert peak < 2048, f"peak memory {peak:.0f} MB"


# The Data page ------------------------------------------------------------------------------------------

def test_data_page_shows_the_limit_in_an_error_box() -> None:
    """The upload path of the app: a million-column header ends in one st.error box, no exception."""
    from ui.common import StateKeys
    from tests.apptest import open_page, shown as as_shown

    at = open_page("pages/data.py")
    at.file_uploader(key=f"{StateKeys.UPLOAD}_0").set_value(("wide.csv", _header_only(1_000_000), "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    shown = [as_shown(e.value) for e in at.error]  # as the browser shows the escaped file name
    assert len(shown) == 1 and shown[0].startswith("wide.csv: the file has 1,000,000 columns; the limit is 5,000. "
                                                   "A registry export has one row per patient"), shown
    assert StateKeys.REGISTRY not in at.session_state
