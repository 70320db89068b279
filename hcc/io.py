"""Reading registry files from bytes (an upload or a file on disk) into a table of text cells.

Formats: delimited text (CSV, TSV, semicolon; UTF-8 with or without BOM, Shift-JIS/cp932, Latin-1),
Excel ``.xlsx`` (one chosen sheet), Parquet, SPSS ``.sav`` and Stata ``.dta`` (value labels applied).
Every cell becomes text: parsing of values (dates, numbers, booleans) is left to :mod:`hcc.mapping`
and :mod:`hcc.validate`, so that every bad cell can be reported with its row and column instead of
disappearing in a reader's coercion. Nothing here writes to disk or logs cell contents: binary
formats are parsed from memory (``io.BytesIO``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hcc.errors import DataFileError

#: Separators recognised in delimited text files, in order of preference.
SEPARATORS: tuple[str, ...] = (",", ";", "\t")
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp932", "latin-1")
#: Largest file accepted (the same as the server's ``maxUploadSize``).
MAX_BYTES: int = 200 * 2**20
#: Largest total uncompressed size of an xlsx archive, and largest expansion ratio (zip-bomb guard).
MAX_UNCOMPRESSED_BYTES: int = 1024 * 2**20
MAX_EXPANSION: int = 200
#: More columns than this is not a one-row-per-patient registry export.
MAX_COLUMNS: int = 5000

CSV, XLSX, PARQUET, SAV, DTA = "csv", "xlsx", "parquet", "sav", "dta"
FORMATS: tuple[str, ...] = (CSV, XLSX, PARQUET, SAV, DTA)
#: File-name endings accepted by the uploader, by format.
EXTENSIONS: dict[str, str] = {"csv": CSV, "txt": CSV, "tsv": CSV, "xlsx": XLSX, "parquet": PARQUET,
                              "sav": SAV, "dta": DTA}

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and every password-protected Office file


@dataclass(frozen=True, eq=False)
class RawTable:
    """A file's cells as text, before mapping and validation.

    Attributes
    ----------
    name : the file name shown to the user (never a server path).
    cells : every column as ``str``; empty cells are ``""``.
    sha256 : hex SHA-256 of the file's bytes (the data fingerprint).
    n_bytes : size of the file.
    encoding, separator : what the reader detected (``""`` for binary formats).
    source_format : one of :data:`FORMATS`.
    decimal : the decimal mark of numbers in text cells (``","`` in semicolon-separated files).
    sheet : the Excel sheet read, else ``""``.
    """

    name: str
    cells: pd.DataFrame
    sha256: str
    n_bytes: int
    encoding: str = ""
    separator: str = ""
    source_format: str = CSV
    decimal: str = "."
    sheet: str = ""

    def with_cells(self, cells: pd.DataFrame) -> "RawTable":
        """The same file's provenance with transformed cells (after column or value mapping)."""
        return RawTable(self.name, cells, self.sha256, self.n_bytes, self.encoding, self.separator,
                        self.source_format, self.decimal, self.sheet)


def fingerprint(data: bytes) -> str:
    """Hex SHA-256 of ``data``: identifies a registry file without keeping its content."""
    return hashlib.sha256(data).hexdigest()


def file_format(data: bytes, name: str) -> str:
    """The format of a file: by its content's signature first, then by its name's ending.

    Raises :class:`DataFileError` for Office files that are encrypted or in the old ``.xls`` format.
    """
    if data.startswith(_OLE_MAGIC):
        raise DataFileError(f"{name}: this is a password-protected Excel file or an old .xls workbook. "
                            "Remove the password (File > Info > Protect Workbook) and save as .xlsx, "
                            "or save as CSV, and upload again.")
    ending = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if data.startswith(b"PAR1"):
        return PARQUET
    if data[:4] in (b"$FL2", b"$FL3"):
        return SAV
    if data.startswith(b"<stata_dta>") or (ending == DTA and data[:1] in (b"\x71", b"\x72", b"\x73")):
        return DTA
    if ending in ("csv", "txt", "tsv"):
        return CSV  # a binary file named .csv gets the "not a text file" message
    if data.startswith(_ZIP_MAGIC) or ending == XLSX:
        return XLSX
    if ending in (PARQUET, SAV, DTA):
        return ending  # claimed but without its signature: the reader will say it is damaged
    return CSV


def read_table(data: bytes, name: str, *, sheet: str | None = None) -> RawTable:
    """Read a registry export held in memory into text cells.

    Parameters
    ----------
    data : the file's bytes.
    name : the file name, used to detect the format and in messages.
    sheet : for Excel workbooks, the sheet to read (default: the first).

    Returns
    -------
    RawTable with every cell as text (``""`` for blanks) and column names stripped of spaces.

    Raises
    ------
    DataFileError
        If the file is empty, too large, damaged, encrypted, not a table, or has no data rows; the
        message names the file and the fix.
    """
    if len(data) > MAX_BYTES:
        raise DataFileError(f"{name}: the file is {len(data) / 2**20:.0f} MB; the limit is "
                            f"{MAX_BYTES // 2**20} MB. Export only the columns of the data format, or "
                            "split the registry by center.")
    if not data.strip():
        raise DataFileError(f"{name}: the file is empty. Export the registry again with a header row "
                            "and one row per patient.")
    fmt = file_format(data, name)
    if fmt == CSV:
        cells, encoding, sep = _read_delimited(data, name)
        raw = RawTable(name, cells, fingerprint(data), len(data), encoding, sep, CSV,
                       "," if sep == ";" else ".")
    else:
        reader = {XLSX: lambda: _read_xlsx(data, name, sheet), PARQUET: lambda: _read_parquet(data, name),
                  SAV: lambda: _read_sav(data, name), DTA: lambda: _read_dta(data, name)}[fmt]
        frame, chosen = reader()
        raw = RawTable(name, _as_text(frame, name), fingerprint(data), len(data), source_format=fmt,
                       sheet=chosen)
    return _checked(raw)


def read_path(path: str | Path, *, sheet: str | None = None) -> RawTable:
    """Read a registry file from disk (CLI, demo) with :func:`read_table`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataFileError(f"{p.name}: cannot open the file ({exc.strerror}).") from None
    return read_table(data, p.name, sheet=sheet)


def sheet_names(data: bytes, name: str) -> tuple[str, ...]:
    """The sheet names of an xlsx workbook, in workbook order (for the sheet chooser)."""
    _check_zip(data, name)
    from openpyxl import load_workbook  # parses XML with defusedxml when installed (it is pinned)

    try:
        book = load_workbook(io.BytesIO(data), read_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise DataFileError(f"{name}: the workbook cannot be opened ({type(exc).__name__}). "
                            "Open it in Excel, save it again as .xlsx, and upload again.") from None
    try:
        return tuple(book.sheetnames)
    finally:
        book.close()


# Delimited text ------------------------------------------------------------------------------------

def _decode(data: bytes, name: str) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise DataFileError(f"{name}: the file's text encoding is not UTF-8, Shift-JIS or Latin-1; "
                        "save it as 'CSV UTF-8' and upload again.")  # pragma: no cover (latin-1 decodes all)


def _sniff_separator(text: str) -> str:
    header = text.splitlines()[0] if text else ""
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _looks_binary(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return control > len(head) // 20


def _read_delimited(data: bytes, name: str) -> tuple[pd.DataFrame, str, str]:
    if _looks_binary(data):
        raise DataFileError(f"{name}: this is not a text (CSV) file. Save the registry as CSV, Excel "
                            "(.xlsx), Parquet, SPSS (.sav) or Stata (.dta) and upload again.")
    text, encoding = _decode(data, name)
    sep = _sniff_separator(text)
    try:
        cells = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skipinitialspace=True, quoting=csv.QUOTE_MINIMAL)
    except (ValueError, csv.Error) as exc:  # ParserError and EmptyDataError are ValueErrors
        raise DataFileError(f"{name}: the file could not be read as a table ({str(exc).strip()[:120]}). "
                            "Check that every row has the same number of columns.") from None
    return cells, encoding, sep


# Binary formats ------------------------------------------------------------------------------------

def _check_zip(data: bytes, name: str) -> None:
    """Refuse damaged archives and zip bombs before any XML is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise DataFileError(f"{name}: the Excel file is damaged or incomplete (perhaps the download was cut "
                            "short). Open it in Excel, save it again as .xlsx, and upload again.") from None
    if total > MAX_UNCOMPRESSED_BYTES or total > MAX_EXPANSION * max(len(data), 1) + 50 * 2**20:
        raise DataFileError(f"{name}: the workbook unpacks to {total / 2**20:.0f} MB, far more than a registry "
                            "export; it is refused as unsafe. Save the registry sheet as CSV and upload that.")
    if "xl/workbook.xml" not in names:
        raise DataFileError(f"{name}: this zip archive is not an Excel workbook. Upload the registry as .xlsx "
                            "or CSV.")


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> tuple[pd.DataFrame, str]:
    sheets = sheet_names(data, name)
    if not sheets:
        raise DataFileError(f"{name}: the workbook has no sheets.")
    chosen = sheets[0] if sheet is None else sheet
    if chosen not in sheets:
        raise DataFileError(f"{name}: there is no sheet '{chosen}'; the sheets are {', '.join(sheets)}.")
    try:
        frame = pd.read_excel(io.BytesIO(data), sheet_name=chosen, dtype=object, engine="openpyxl")
    except Exception as exc:  # damaged sheet XML, unsupported features
        raise DataFileError(f"{name}: sheet '{chosen}' cannot be read ({type(exc).__name__}). Save the "
                            "workbook again in Excel, or save the sheet as CSV.") from None
    return frame, chosen


def _read_parquet(data: bytes, name: str) -> tuple[pd.DataFrame, str]:
    try:
        return pd.read_parquet(io.BytesIO(data)), ""
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        raise DataFileError(f"{name}: the Parquet file cannot be read ({type(exc).__name__}). Write it "
                            "again, or export the registry as CSV.") from None


def _read_sav(data: bytes, name: str) -> tuple[pd.DataFrame, str]:
    import pyreadstat

    try:
        # value labels applied; read from memory (pyreadstat accepts file objects)
        frame, _meta = pyreadstat.read_sav(io.BytesIO(data), apply_value_formats=True)
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        raise DataFileError(f"{name}: the SPSS file cannot be read ({type(exc).__name__}). Save it again "
                            "from SPSS, or export the registry as CSV.") from None
    return frame, ""


def _read_dta(data: bytes, name: str) -> tuple[pd.DataFrame, str]:
    try:
        # pandas applies Stata value labels itself and parses from memory.
        return pd.read_stata(io.BytesIO(data), convert_categoricals=True, convert_dates=True), ""
    except Exception as exc:  # damaged or unsupported Stata versions
        raise DataFileError(f"{name}: the Stata file cannot be read ({type(exc).__name__}). Save it again "
                            "from Stata (version 13 or later), or export the registry as CSV.") from None


# Text cells ----------------------------------------------------------------------------------------

def _cell_text(value: object) -> str:
    if value is None or value is pd.NaT:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):  # pd.Timestamp is a datetime
        return value.strftime("%Y-%m-%d" if value.time() == dt.time(0) else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (np.floating,)):
        return _cell_text(float(value))
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    return str(value).strip()


def _as_text(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Every cell of a typed table as text: dates as ISO, whole numbers without ``.0``, blanks as ``""``."""
    labels = [_cell_text(column) or f"column {i + 1}" for i, column in enumerate(frame.columns)]
    columns = [[_cell_text(v) for v in frame.iloc[:, i].astype(object).tolist()] for i in range(frame.shape[1])]
    out = pd.DataFrame(dict(zip(range(len(labels)), columns)), index=pd.RangeIndex(len(frame)))
    out.columns = labels  # set after building: duplicate labels stay distinct columns
    return out


def _checked(raw: RawTable) -> RawTable:
    cells = raw.cells
    if cells.shape[1] > MAX_COLUMNS:
        raise DataFileError(f"{raw.name}: the file has {cells.shape[1]:,} columns; a registry export has one "
                            f"row per patient and at most {MAX_COLUMNS:,} columns. Export only the registry "
                            "fields (not a transposed or pivoted table).")
    cells.columns = [str(c).strip() for c in cells.columns]
    if cells.empty:
        raise DataFileError(f"{raw.name}: the file has a header but no patient rows.")
    blank_names = [i + 1 for i, c in enumerate(cells.columns) if not c or c.startswith("Unnamed:")]
    if len(blank_names) == len(cells.columns):
        raise DataFileError(f"{raw.name}: the first row has no column names. Put the column names in the "
                            "first row and upload again.")
    cells = cells.apply(_stripped)
    return raw.with_cells(cells)


def _stripped(column: pd.Series) -> pd.Series:
    """Cells without surrounding spaces; computed on the distinct values (most columns repeat a lot)."""
    column = column.astype(str)
    distinct = column.unique()
    stripped = pd.Series(distinct).str.strip().to_numpy()
    changed = stripped != distinct
    if not changed.any():
        return column
    return column.map(dict(zip(distinct[changed], stripped[changed]))).fillna(column)
