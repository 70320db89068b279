"""Reading registry files from bytes (an upload or a file on disk) into a table of text cells.

Formats: delimited text (CSV, TSV, semicolon; UTF-8 with or without BOM, Shift-JIS/cp932, Latin-1),
Excel ``.xlsx`` (one chosen sheet), Parquet, SPSS ``.sav`` and Stata ``.dta`` (value labels applied).
Every cell becomes text: parsing of values (dates, numbers, booleans) is left to :mod:`hcc.ingest.mapping`
and :mod:`hcc.ingest.validate`, so that every bad cell can be reported with its row and column instead of
disappearing in a reader's coercion. Nothing here writes to disk or logs cell contents: binary
formats are parsed from memory (``io.BytesIO``).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import math
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hcc.errors import DataFileError
from hcc.i18n import N_, tr, trc

# pandas is imported by the functions that build frames: the byte-level checks the fast path of
# `analyze --stats km` uses (read_file, fingerprint, the row budget) load without it (~0.45 s).
if TYPE_CHECKING:
    import pandas as pd

#: The bundled synthetic demo registry (made by ``python -m hcc.reference.synth``).
DEMO_PATH: Path = Path(__file__).resolve().parents[2] / "data" / "demo_registry.csv"
#: Separators recognised in delimited text files, in order of preference.
SEPARATORS: tuple[str, ...] = (",", ";", "\t")
#: Text encodings tried, in order (each over the whole file; Latin-1 decodes any bytes).
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp932", "latin-1")

# Input limits: the one place they are defined (docs/deploy.md, "Input limits", lists each with its
# message and the test that proves it). Each is checked *before* the expensive step it guards.
#: Largest file accepted, in MB as ``server.maxUploadSize`` counts them (Streamlit's server multiplies
#: by 1024 * 1024; ``tests/test_limits.py`` checks that ``.streamlit/config.toml`` says the same).
MAX_UPLOAD_MB: int = 200
MAX_BYTES: int = MAX_UPLOAD_MB * 2**20
#: Largest total uncompressed size of an xlsx archive, and largest expansion ratio (zip-bomb guard).
MAX_UNCOMPRESSED_BYTES: int = 1024 * 2**20
MAX_EXPANSION: int = 200
#: More columns than this is not a one-row-per-patient registry export.
MAX_COLUMNS: int = 5000
#: Most patient rows read: twice the 1,000,000-patient registries the app is sized for
#: (docs/performance.md), far below what would exhaust a server's memory.
MAX_ROWS: int = 2_000_000
#: Most cells (rows x columns) held as text: a 1,000,000-patient registry with every contract column
#: (34) has 34 million; the 47 million cells of a 199 MB registry CSV take 0.9 GB, so this bounds ~2 GB.
MAX_CELLS: int = 100_000_000
#: Excel's own sheet size: a sheet claiming more rows is not an Excel export.
EXCEL_MAX_ROWS: int = 1_048_576
#: Most cells of an Excel sheet: parsing sheet XML runs at roughly 50,000-100,000 cells a second here
#: (openpyxl), so this is a minute or two; larger registries read far faster as CSV.
MAX_XLSX_CELLS: int = 5_000_000

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
    cells : every column as ``str``; empty cells are ``""`` (a property: see :meth:`release_cells`).
    sha256 : hex SHA-256 of the file's bytes (the data fingerprint).
    n_bytes : size of the file.
    encoding, separator : what the reader detected (``""`` for binary formats).
    source_format : one of :data:`FORMATS`.
    decimal : the decimal mark of numbers in text cells (``","`` in semicolon-separated files).
    sheet : the Excel sheet read, else ``""``.
    warnings : problems found while reading that did not stop it (rows whose text is not in the
        file's encoding), each naming the rows; the fix is :data:`ENCODING_FIX`.
    """

    name: str
    cells: pd.DataFrame = field(repr=False)  # a property (below the class): it may be released and read again
    sha256: str
    n_bytes: int
    encoding: str = ""
    separator: str = ""
    source_format: str = CSV
    decimal: str = "."
    sheet: str = ""
    warnings: tuple[str, ...] = ()
    # What was computed from one column's cells (counts, distinct values, date format): the mapping
    # proposal, the mapping editor, the identifier scan and the load each ask again (issue 17). It
    # lives and dies with this table, i.e. in the session that read the file; never shared.
    _memo: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def columns(self) -> list[str]:
        """The column names (without touching released cells)."""
        return self.once(("columns",), lambda: list(self.cells.columns))

    @property
    def n_rows(self) -> int:
        """The number of data rows (without touching released cells)."""
        return self.once(("rows",), lambda: len(self.cells))

    def release_cells(self, reread=None) -> None:
        """Let the cells go until they are needed again; then ``reread()`` gives them (the same file read
        the same way: the same cells); without ``reread``, the one given before (else nothing is
        released). What was computed from them (:meth:`once`) stays.

        A session keeps its upload so that the mapping can be changed without uploading again; once
        the registry is loaded the editors need only their per-file results, and the cells (~250 MB
        for a 1M-row file, more than its bytes) are read again only when the mapping changes."""
        held = self.__dict__  # the cells' own slots (see _held_cells), not dataclass fields
        reread = reread or held.get("_reread")
        if held.get("_cells") is None or reread is None:
            return
        self.columns, self.n_rows  # noqa: B018 - known before the cells go
        held["_reread"], held["_cells"] = reread, None
        for key in [k for k in self._memo if k[0] == "factorize"]:  # validation's row codes: read again with the cells
            del self._memo[key]
        import pyarrow as pa  # noqa: PLC0415  (the cells are Arrow columns when Arrow read the file)

        pa.default_memory_pool().release_unused()  # to the system now, not after the allocator's decay

    def with_cells(self, cells: pd.DataFrame, same: dict[str, str] | None = None) -> "RawTable":
        """The same file's provenance with transformed cells (after column or value mapping).

        ``same``: new column -> this table's column whose cells it holds unchanged (only renamed): its
        :meth:`factorized` codes, when known, are the new table's too (no second hash pass)."""
        table = RawTable(self.name, cells, self.sha256, self.n_bytes, self.encoding, self.separator,
                         self.source_format, self.decimal, self.sheet, self.warnings)
        for new, old in (same or {}).items():
            if (known := self.known(("factorize", old))) is not None:
                table._memo[("factorize", new)] = known
        return table

    def once(self, key: tuple, compute):
        """``compute()``, computed once per table under ``key`` (the cells never change after reading:
        a table with other cells is another :class:`RawTable`, :meth:`with_cells`)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def known(self, key: tuple):
        """What :meth:`once` computed under ``key``, else ``None`` (nothing is computed)."""
        return self._memo.get(key)

    def value_counts(self, column: str) -> pd.Series:
        """``cells[column].value_counts()``: each distinct cell with its count, most frequent first;
        computed once per table (for Arrow cells, counted from :meth:`factorized`'s codes: the same
        Series, and the hash pass shared with validation)."""
        def count() -> pd.Series:
            import pandas as pd  # noqa: PLC0415  (see the imports)

            text = self.cells[column]
            if not isinstance(text.dtype, pd.ArrowDtype) or text.hasnans:  # (value_counts leaves missing cells out)
                return text.value_counts()
            import pyarrow as pa  # noqa: PLC0415  (Arrow cells: pyarrow is loaded)

            codes, uniques = self.factorized(column)
            counts = np.bincount(codes, minlength=len(uniques))
            # as pandas builds it (ArrowExtensionArray.value_counts, then sorted): distinct cells in order of
            # first occurrence, Arrow int64 counts, the same sort, so ties keep the same order
            return pd.Series(pd.arrays.ArrowExtensionArray(pa.array(counts, type=pa.int64())),
                             index=pd.Index(uniques, name=column), name="count", copy=False
                             ).sort_values(ascending=False)

        return self.once(("value_counts", column), count)

    def distinct(self, column: str) -> np.ndarray | pd.api.extensions.ExtensionArray:
        """``cells[column].unique()``: the distinct cells in the order they first occur; computed once per table
        (for Arrow cells, :meth:`factorized`'s distinct cells)."""
        def unique():
            import pandas as pd  # noqa: PLC0415  (see the imports)

            text = self.cells[column]
            arrow = isinstance(text.dtype, pd.ArrowDtype) and not text.hasnans
            return self.factorized(column)[1] if arrow else text.unique()

        return self.once(("distinct", column), unique)

    def factorized(self, column: str) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray | np.ndarray]:
        """``pandas.factorize(cells[column], use_na_sentinel=False)`` of the column's values: per row the
        index of its cell among the distinct cells (the smallest integer type that holds them), and the
        distinct cells in order of first occurrence. One hash pass per column and table, shared by the
        counts and distinct values the mapping editor shows and by validation (:mod:`hcc.ingest.validate`)."""
        return self.once(("factorize", column), lambda: _factorize(self.cells[column]))

    def factorize(self, columns) -> None:
        """:meth:`factorized` of each of ``columns`` (file columns; others are skipped) not yet done, two at
        a time: Arrow's hash releases the GIL, and the machine this runs on has two cores or more."""
        todo = [c for c in dict.fromkeys(columns) if c in self.columns and ("factorize", c) not in self._memo]
        texts = [self.cells[c] for c in todo]  # taken here: pandas' column cache is not for threads
        if len(todo) < 2:
            for c in todo:
                self.factorized(c)
            return
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        with ThreadPoolExecutor(max_workers=2) as pool:
            for c, result in zip(todo, pool.map(_factorize, texts)):
                self._memo.setdefault(("factorize", c), result)


def _held_cells(raw: RawTable) -> pd.DataFrame:
    held = raw.__dict__
    if held["_cells"] is None:
        held["_cells"] = held["_reread"]()
    return held["_cells"]


def _hold_cells(raw: RawTable, cells: pd.DataFrame) -> None:
    raw.__dict__["_cells"] = cells  # the dataclass's __init__ (frozen) sets the field through here


# ``cells`` stays a dataclass field (``RawTable(name, cells, ...)``, ``cells=``), read through a property
RawTable.cells = property(_held_cells, _hold_cells, doc="""Every column as ``str`` (empty cells ``""``); read
again from the file if they were released (:meth:`RawTable.release_cells`).""")


def _factorize(text: pd.Series) -> tuple[np.ndarray, pd.api.extensions.ExtensionArray | np.ndarray]:
    """:meth:`RawTable.factorized` of one column: codes in the smallest integer type (a few MB a column at 1M
    rows, kept while the cells are), and the distinct cells as ``Series.unique`` gives them."""
    import pandas as pd  # noqa: PLC0415  (see the imports)
    arrow = isinstance(text.dtype, pd.ArrowDtype)
    if arrow and len(text) and not text.hasnans:
        import pyarrow as pa  # noqa: PLC0415  (Arrow cells: pyarrow is loaded)
        import pyarrow.compute as pc  # noqa: PLC0415

        # One hash table over all the reader's chunks (~150 at 1M rows): each chunk's codes index the values
        # seen so far, and the last chunk's dictionary holds them all in order of first occurrence — pandas'
        # codes and uniques, without the dictionaries unified chunk by chunk (pandas.factorize: twice the time)
        encoded = pc.dictionary_encode(pa.array(text.array))
        chunks = encoded.chunks if isinstance(encoded, pa.ChunkedArray) else [encoded]
        codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
        uniques = pd.arrays.ArrowExtensionArray(chunks[-1].dictionary)
    else:
        codes, uniques = pd.factorize(text, use_na_sentinel=False)
    small = next(t for t in (np.int8, np.int16, np.int32, np.int64) if len(uniques) <= np.iinfo(t).max)
    if not arrow or not isinstance(uniques, pd.api.extensions.ExtensionArray):
        uniques = uniques.array if arrow else np.asarray(uniques)  # as unique() gives them
    return codes.astype(small, copy=False), uniques


def fingerprint(data: bytes) -> str:
    """Hex SHA-256 of ``data``: identifies a registry file without keeping its content."""
    return hashlib.sha256(data).hexdigest()


def file_format(data: bytes, name: str) -> str:
    """The format of a file: by its content's signature first, then by its name's ending.

    Raises :class:`DataFileError` for Office files that are encrypted or in the old ``.xls`` format.
    """
    if data.startswith(_OLE_MAGIC):
        raise DataFileError(tr("{name}: this is a password-protected Excel file or an old .xls workbook. "
                               "Remove the password (File > Info > Protect Workbook) and save as .xlsx, "
                               "or save as CSV, and upload again.", name=name))
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


def read_table(data: bytes, name: str, *, sheet: str | None = None, sha256: str | None = None) -> RawTable:
    """Read a registry export held in memory into text cells.

    Parameters
    ----------
    data : the file's bytes.
    name : the file name, used to detect the format and in messages.
    sheet : for Excel workbooks, the sheet to read (default: the first).
    sha256 : the file's :func:`fingerprint`, when the caller has already computed it (one pass less).

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
        raise DataFileError(_too_large(name, len(data)))
    if not data or data.isspace():  # isspace: no copy of a large file (strip() would make one)
        raise DataFileError(tr("{name}: the file is empty. Export the registry again with a header row "
                               "and one row per patient.", name=name))
    fmt = file_format(data, name)
    if fmt == CSV:
        cells, encoding, sep, warnings, trimmed = _read_delimited(data, name)
        raw = RawTable(name, cells, sha256 or fingerprint(data), len(data), encoding, sep, CSV,
                       "," if sep == ";" else ".", warnings=warnings)
        return _checked(raw, trimmed=trimmed)
    reader = {XLSX: lambda: _read_xlsx(data, name, sheet), PARQUET: lambda: _read_parquet(data, name),
              SAV: lambda: _read_sav(data, name), DTA: lambda: _read_dta(data, name)}[fmt]
    frame, chosen = reader()
    raw = RawTable(name, _as_text(frame, name), sha256 or fingerprint(data), len(data), source_format=fmt,
                   sheet=chosen)
    return _checked(raw)


def _too_large(name: str, n_bytes: int) -> str:
    # MB as the uploader counts them (MAX_UPLOAD_MB); rounded up so a refused file never reads "200 MB"
    size = math.ceil(n_bytes / 2**20 * 10) / 10
    return tr("{name}: the file is {size} MB; the limit is {limit} MB. Export only the columns of the data "
              "format, or split the registry by center.", name=name, size=f"{size:,.1f}", limit=MAX_UPLOAD_MB)


#: What a size limit counts (:func:`_too_many`'s ``what``; translated where the message is made).
_COLUMNS, _ROWS, _CELLS, _SHEET_CELLS = "columns", "rows", "cells (rows x columns)", "cells in the sheet"


def _what(what: str) -> str:
    return {_COLUMNS: trc("file limit", "columns"), _ROWS: trc("file limit", "rows"),
            _CELLS: trc("file limit", "cells (rows x columns)"),
            _SHEET_CELLS: trc("file limit", "cells in the sheet")}[what]


def _more_than(limit: int) -> str:
    return trc("file limit", "more than {n}", n=f"{limit:,}")


def _too_many(name: str, what: str, n: int | str, limit: int, fix: str) -> str:
    """The message of a refused size: ``what`` is one of ``_COLUMNS``, ``_ROWS``, ``_CELLS``,
    ``_SHEET_CELLS``; ``n`` a count or a translated "more than …"; ``fix`` translated."""
    return tr("{name}: the file has {n} {what}; the limit is {limit}. {fix}", name=name,
              n=n if isinstance(n, str) else f"{n:,}", what=_what(what), limit=f"{limit:,}", fix=fix)


_COLUMNS_FIX = N_("A registry export has one row per patient; export only the registry fields (not a "
                  "transposed or pivoted table).")
_ROWS_FIX = N_("Split the registry (for example by center or by year of first-line start) and analyse each part.")


def check_shape(name: str, n_rows: int | None, n_columns: int | None) -> None:
    """Refuse a table whose declared shape exceeds :data:`MAX_COLUMNS`, :data:`MAX_ROWS` or :data:`MAX_CELLS`
    (called on headers and metadata, before the cells are read)."""
    if n_columns is not None and n_columns > MAX_COLUMNS:
        raise DataFileError(_too_many(name, _COLUMNS, n_columns, MAX_COLUMNS, tr(_COLUMNS_FIX)))
    if n_rows is not None and n_rows > MAX_ROWS:
        raise DataFileError(_too_many(name, _ROWS, n_rows, MAX_ROWS, tr(_ROWS_FIX)))
    if n_rows is not None and n_columns and n_rows * n_columns > MAX_CELLS:
        raise DataFileError(_too_many(name, _CELLS, n_rows * n_columns, MAX_CELLS,
                                      tr("Export only the columns of the data format. {fix}", fix=tr(_ROWS_FIX))))


def _row_budget(n_columns: int) -> int:
    """Most data rows that may be read for a table of ``n_columns`` (rows and cells limits)."""
    return min(MAX_ROWS, MAX_CELLS // max(n_columns, 1))


def read_file(path: str | Path) -> bytes:
    """A registry file's bytes from disk, refusing what is not a regular file or is over :data:`MAX_BYTES`.

    The size is checked with ``stat`` before anything is read (a 3 GB file is refused at once), and
    the read itself stops at ``MAX_BYTES + 1`` bytes (a file that grows, or reports no size, cannot
    exhaust memory). Devices (``/dev/zero``), pipes and folders are refused without opening them
    (opening a pipe would block).
    """
    p = Path(path)
    try:
        info = p.stat()
    except OSError as exc:
        raise DataFileError(tr("{name}: cannot open the file ({reason}).", name=p.name, reason=exc.strerror)) from None
    if not stat.S_ISREG(info.st_mode):
        raise DataFileError(tr("{name}: this is not a regular file (it is a folder, device or pipe). Give the "
                               "path of the registry file itself.", name=p.name))
    if info.st_size > MAX_BYTES:
        raise DataFileError(_too_large(p.name, info.st_size))
    try:
        with p.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise DataFileError(tr("{name}: cannot open the file ({reason}).", name=p.name, reason=exc.strerror)) from None
    if len(data) > MAX_BYTES:
        raise DataFileError(_too_large(p.name, len(data)))
    return data


def read_path(path: str | Path, *, sheet: str | None = None) -> RawTable:
    """Read a registry file from disk (CLI, demo) with :func:`read_table` (through :func:`read_file`)."""
    return read_table(read_file(path), Path(path).name, sheet=sheet)


def sheet_names(data: bytes, name: str) -> tuple[str, ...]:
    """The sheet names of an xlsx workbook, in workbook order (for the sheet chooser)."""
    _check_zip(data, name)
    from openpyxl import load_workbook  # parses XML with defusedxml when installed (it is pinned)

    try:
        book = load_workbook(io.BytesIO(data), read_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise DataFileError(tr("{name}: the workbook cannot be opened ({error}). Open it in Excel, save it "
                               "again as .xlsx, and upload again.", name=name, error=type(exc).__name__)) from None
    try:
        return tuple(book.sheetnames)
    finally:
        book.close()


# Delimited text ------------------------------------------------------------------------------------

#: What to do about a mixed-encoding file (the fix of every :attr:`RawTable.warnings` entry).
ENCODING_FIX = N_("open the file in Excel or a text editor, correct the characters in those rows, save it as "
                  "'CSV UTF-8' and upload it again")
#: Rows named in a mixed-encoding warning (the count of the others is given).
_ROWS_SHOWN = 10
_CHUNK = 4 * 2**20


def _decodes(data: bytes, encoding: str) -> bool:
    """Whether ``data`` is valid text in ``encoding``, checked in chunks (no copy of the whole file)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    view = memoryview(data)
    try:
        for start in range(0, len(data), _CHUNK):
            decoder.decode(view[start:start + _CHUNK], final=start + _CHUNK >= len(data))
    except UnicodeDecodeError:
        return False
    return True


def _not_utf8_rows(data: bytes) -> tuple[list[int], int]:
    """Spreadsheet rows (header = 1) whose bytes are not UTF-8, and how many rows are non-ASCII UTF-8.

    Only called when the whole file is not UTF-8. Rows are physical lines: a quoted cell spanning
    lines (rare in registry exports) shifts the numbers of the rows after it."""
    bad, utf8 = [], 0
    for number, line in enumerate(io.BytesIO(data), start=1):  # shares data's buffer: no copy
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8 += 1
        except UnicodeDecodeError:
            bad.append(number)
    return bad, utf8


def _choose_encoding(data: bytes, name: str) -> tuple[str, tuple[str, ...]]:
    """The file's text encoding and, for a mostly-UTF-8 file with some rows in another encoding, a
    warning naming those rows (the file is then read as UTF-8 with those bytes shown as "\ufffd").

    UTF-8 (with or without BOM), then Shift-JIS (cp932), then Latin-1 (which decodes any bytes). A file
    where some rows are UTF-8 and others are not is *mixed* (typically rows pasted from another
    program): decoding it whole as Shift-JIS or Latin-1 would silently garble every non-ASCII
    character of the UTF-8 rows, so it is read as UTF-8 and the other rows are named instead.
    """
    utf8, cp932, latin1 = ENCODINGS
    if _decodes(data, utf8):
        return utf8, ()
    bad, n_utf8 = _not_utf8_rows(data)
    if n_utf8 == 0:  # no UTF-8 text at all: a whole-file legacy encoding
        return (cp932 if _decodes(data, cp932) else latin1), ()
    shown = ", ".join(map(str, bad[:_ROWS_SHOWN]))
    if len(bad) > _ROWS_SHOWN:
        shown = trc("rows named", "{rows} and {n} more", rows=shown, n=f"{len(bad) - _ROWS_SHOWN:,}")
    return utf8, (
        tr("the file mixes text encodings: it is UTF-8, but row(s) {rows} contain characters in another "
           "encoding (for example Shift-JIS or Windows-1252), shown as \ufffd; values in those rows may not "
           "match their codes", rows=shown),)


def _sniff_separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _looks_binary(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 13))
    return control > len(head) // 20


def _header(data: bytes, encoding: str) -> str:
    """The first line of the file as text (the header row), without reading further."""
    end = data.find(b"\n")
    line = data if end < 0 else data[:end]
    return line.decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r")


def _read_delimited(data: bytes, name: str) -> tuple[pd.DataFrame, str, str, tuple[str, ...], bool]:
    """Cells of a delimited text file, with its encoding, separator, any encoding warning, and whether
    the cells are already trimmed (read by :func:`_read_arrow`).

    The column count is taken from the header line and the rows are read only up to the row budget
    (:func:`_row_budget`), so a file with a million columns or rows is refused before pandas holds
    it. pandas decodes the bytes itself (no decoded copy of the whole file is made).
    """
    import pandas as pd  # noqa: PLC0415  (see the imports)

    if _looks_binary(data):
        raise DataFileError(tr("{name}: this is not a text (CSV) file. Save the registry as CSV, Excel "
                               "(.xlsx), Parquet, SPSS (.sav) or Stata (.dta) and upload again.", name=name))
    ascii_file = data.isascii()  # one fast pass; ASCII is UTF-8, and Arrow trims it with its ASCII kernel
    encoding, warnings = (ENCODINGS[0], ()) if ascii_file else _choose_encoding(data, name)
    header = _header(data, encoding)
    sep = _sniff_separator(header)
    if header.count(sep) + 1 > MAX_COLUMNS:  # an upper bound; quoted separators are rare: count exactly
        check_shape(name, None, len(next(csv.reader([header], delimiter=sep), [])))
    budget = _row_budget(header.count(sep) + 1)
    cells = _read_arrow(data, sep, header, ascii_file) if encoding == ENCODINGS[0] and not warnings else None
    if cells is not None:
        if len(cells) > budget:
            what, limit = (_ROWS, MAX_ROWS) if budget == MAX_ROWS else (_CELLS, MAX_CELLS)
            raise DataFileError(_too_many(name, what, _more_than(limit), limit, tr(_ROWS_FIX)))
        return cells, encoding, sep, warnings, True
    try:
        cells = pd.read_csv(io.BytesIO(data), sep=sep, dtype=str, keep_default_na=False, encoding=encoding,
                            encoding_errors="replace" if warnings else "strict", nrows=budget + 1,
                            skipinitialspace=True, quoting=csv.QUOTE_MINIMAL)
    except (ValueError, csv.Error) as exc:  # ParserError and EmptyDataError are ValueErrors
        raise DataFileError(tr("{name}: the file could not be read as a table ({error}). Check that every "
                               "row has the same number of columns.", name=name, error=str(exc).strip()[:120])) from None
    if len(cells) > budget:
        what, limit = (_ROWS, MAX_ROWS) if budget == MAX_ROWS else (_CELLS, MAX_CELLS)
        raise DataFileError(_too_many(name, what, _more_than(limit), limit, tr(_ROWS_FIX)))
    return cells, encoding, sep, warnings, False


#: Python's whitespace (``str.isspace``): trimmed from cells in Arrow exactly as ``str.strip()`` would.
#: Written out, not found by a scan of every code point at import (~0.15 s of every start); a test
#: checks it against ``str.isspace``.
_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
               "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_WHITESPACE_ASCII = "".join(c for c in _WHITESPACE if c.isascii())


def _read_arrow(data: bytes, sep: str, header: str, ascii_file: bool = False) -> pd.DataFrame | None:
    """Cells of a UTF-8 delimited file read by Arrow's multi-threaded CSV reader, every column as text
    and trimmed as :func:`_stripped` trims (so :func:`_checked` has nothing left to strip); or None
    when the file needs pandas' reader, which then reads it with today's rules and messages.

    The columns stay Arrow strings (``pandas.ArrowDtype(pyarrow.string())``): comparisons, distinct
    values and counts run in Arrow's kernels, and no Python object is made per cell (a million-row
    registry has 34 million cells). The typed registry that validation makes holds numpy columns.

    Arrow reads the same dialect as the pandas call below (double quote, doubled quotes inside,
    blank lines skipped, no NA strings: empty cells are ``""``) at several times its speed. It is
    stricter, and every case where the two could differ goes to pandas: a header with blank,
    duplicate or space-padded names (pandas renames those), a quote after a separator and spaces
    (``skipinitialspace``), a line break inside quotes (Arrow cuts its blocks at line ends), rows of
    another width (Arrow raises; pandas then gives its message). ``ascii_file``: the caller found the
    file all ASCII, so every column is trimmed with the ASCII kernel without asking each column.
    """
    import pandas as pd  # noqa: PLC0415  (see the imports)
    import pyarrow as pa  # noqa: PLC0415  (not needed for the other formats)
    import pyarrow.compute as pc  # noqa: PLC0415
    import pyarrow.csv as pa_csv  # noqa: PLC0415

    try:
        names = next(csv.reader([header], delimiter=sep, skipinitialspace=True), [])
    except csv.Error:  # e.g. a bare carriage return inside the header: pandas' reader decides
        return None
    stripped = [n.strip() for n in names]
    if not names or any(not n for n in stripped) or len(set(stripped)) < len(names) or stripped != names:
        return None
    quoted = b'"' in data  # one byte: a memchr scan, far faster than the two-byte searches below
    if quoted and any(f"{sep}{pad}\"".encode() in data for pad in (" ", "\t") if pad != sep):
        return None
    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            parse_options=pa_csv.ParseOptions(delimiter=sep, quote_char='"', double_quote=True,
                                              newlines_in_values=False, ignore_empty_lines=True),
            # check_utf8: only UTF-8 files come here (checked whole by _choose_encoding)
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                  check_utf8=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, OSError):
        return None
    if table.column_names != names or any(t != pa.string() for t in table.schema.types):
        return None
    if quoted and any(pc.any(pc.match_substring_regex(c, "[\r\n]")).as_py() for c in table.columns):
        return None  # a quoted line break: Arrow splits its blocks at line ends without looking at quotes
    columns = {}
    needs_trim = not ascii_file or _may_need_trim(data, sep)
    for n in names:  # one column at a time, each freed once trimmed: the peak holds one extra column
        column = table.column(0)
        if not needs_trim:  # no cell of this ASCII file begins or ends with whitespace: nothing to trim
            columns[n] = pd.Series(pd.arrays.ArrowExtensionArray(column), copy=False)
            table = table.remove_column(0)
            continue
        ascii_column = ascii_file or pc.all(pc.string_is_ascii(column)).as_py()
        trim = pc.ascii_trim if ascii_column else pc.utf8_trim  # ASCII: ~3x faster
        columns[n] = pd.Series(pd.arrays.ArrowExtensionArray(trim(column, characters=_WHITESPACE_ASCII
                                                                   if trim is pc.ascii_trim else _WHITESPACE)),
                               copy=False)
        table = table.remove_column(0)
    return pd.DataFrame(columns, copy=False)


def _may_need_trim(data: bytes, sep: str, chunk: int = 16 * 2**20) -> bool:
    """Whether a cell of an ASCII delimited file may begin or end with whitespace. ``False`` proves that
    trimming every cell (~0.4 s for a 1M-row registry) would change none: the file's only whitespace bytes
    are spaces, line ends and the separator, and no space touches a separator, a line end, a quote or
    either end of the file (a cell's edges). Single-byte searches and a numpy scan in chunks (no
    whole-file temporary)."""
    if any(c.encode() in data for c in _WHITESPACE_ASCII if c not in (" ", "\n", "\r", sep)):
        return True
    raw = np.frombuffer(data, dtype=np.uint8)
    if len(raw) and (raw[0] == 0x20 or raw[-1] == 0x20):
        return True
    edge = np.zeros(256, dtype=bool)
    edge[[ord(sep), ord("\n"), ord("\r"), ord('"')]] = True
    for start in range(0, len(raw), chunk):
        spaces = np.flatnonzero(raw[start:start + chunk] == 0x20) + start
        spaces = spaces[(spaces > 0) & (spaces < len(raw) - 1)]
        if edge[raw[spaces - 1]].any() or edge[raw[spaces + 1]].any():
            return True
    return False


def python_text(cells: pd.DataFrame) -> pd.DataFrame:
    """``cells`` with every column as Python strings (object), as pandas' reader gives them: for code
    that edits cells one by one (REDCap flattening), where Arrow's columns bring nothing."""
    return cells.astype({c: object for c, t in zip(cells.columns, cells.dtypes) if t != object})


def nonblank(cells: pd.Series) -> np.ndarray:
    """Mask of the cells that are not blank (``""``), as a numpy array, for text columns held as Python
    strings (numpy's comparison; pandas' is ~5× slower) or as Arrow strings (Arrow's kernel)."""
    if cells.dtype == object:
        return cells.to_numpy() != ""
    return (cells != "").to_numpy(dtype=bool, na_value=True)



# Binary formats ------------------------------------------------------------------------------------

#: Excel's error values: blank cells, as pandas' Excel reader made them.
_EXCEL_ERRORS = frozenset({"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"})


def _check_zip(data: bytes, name: str) -> None:
    """Refuse damaged archives and zip bombs before any XML is parsed.

    Both the whole archive and each member are held to :data:`MAX_EXPANSION`: padding an archive
    with an incompressible member makes the total ratio look harmless, but not the sheet's own."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise DataFileError(tr("{name}: the Excel file is damaged or incomplete (perhaps the download was cut "
                               "short). Open it in Excel, save it again as .xlsx, and upload again.", name=name)) from None
    total = sum(info.file_size for info in infos)
    bomb = any(info.file_size > MAX_EXPANSION * max(info.compress_size, 1) + 2**20 for info in infos)
    if bomb or total > MAX_UNCOMPRESSED_BYTES or total > MAX_EXPANSION * max(len(data), 1) + 50 * 2**20:
        raise DataFileError(tr("{name}: the workbook unpacks to {size} MB, far more than a registry export "
                               "holds; it is refused as unsafe. Save the registry sheet as CSV and upload that.",
                               name=name, size=f"{total / 2**20:,.0f}"))
    if "xl/workbook.xml" not in {info.filename for info in infos}:
        raise DataFileError(tr("{name}: this zip archive is not an Excel workbook. Upload the registry as .xlsx "
                               "or CSV.", name=name))


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> tuple[pd.DataFrame, str]:
    """One sheet's cells, streamed row by row (openpyxl read-only) and stopped at the first row past
    the column, row or cell budget, so a workbook of millions of (empty) rows or one row reaching
    column XFD is refused after reading that far, never materialised. Blank rows are skipped and the
    first non-blank row is the header, as pandas' ``read_excel`` does."""
    import pandas as pd  # noqa: PLC0415  (see the imports)

    sheets = sheet_names(data, name)
    if not sheets:
        raise DataFileError(tr("{name}: the workbook has no sheets.", name=name))
    chosen = sheets[0] if sheet is None else sheet
    if chosen not in sheets:
        raise DataFileError(tr("{name}: there is no sheet '{sheet}'; the sheets are {sheets}.", name=name,
                               sheet=chosen, sheets=", ".join(sheets)))
    from openpyxl import load_workbook  # noqa: PLC0415

    rows: list[tuple] = []
    n_cells = 0
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            ws = book[chosen]
            _check_sheet_cells(data, ws._worksheet_path, name)  # the sheet's zip member (openpyxl 3.1, pinned)
            ws.reset_dimensions()  # a (possibly false) <dimension> would pad every row to its width
            for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
                if number > EXCEL_MAX_ROWS:
                    raise DataFileError(_too_many(name, _ROWS, _more_than(EXCEL_MAX_ROWS), EXCEL_MAX_ROWS,
                                                  tr("This is more than an Excel sheet holds; save the registry as CSV.")))
                width = len(row)
                while width and (row[width - 1] is None or row[width - 1] == ""):
                    width -= 1
                if not width:
                    continue
                if width > MAX_COLUMNS:
                    raise DataFileError(_too_many(name, _COLUMNS, trc("file limit", "at least {n}", n=f"{width:,}"), MAX_COLUMNS,
                                                  tr(_COLUMNS_FIX)))
                n_cells += width
                if n_cells > MAX_XLSX_CELLS:  # sheets the XML count missed (prefixed tags); rows capped above
                    raise DataFileError(_too_many_sheet_cells(name))
                rows.append(row[:width])
        finally:
            book.close()
    except DataFileError:
        raise
    except Exception as exc:  # damaged sheet XML, unsupported features
        raise DataFileError(tr("{name}: sheet '{sheet}' cannot be read ({error}). Save the workbook again in "
                               "Excel, or save the sheet as CSV.", name=name, sheet=chosen,
                               error=type(exc).__name__)) from None
    if not rows:
        return pd.DataFrame(), chosen
    width = max(len(r) for r in rows)
    header = [_header_label(v, i) for i, v in enumerate(rows[0] + (None,) * (width - len(rows[0])))]
    body = [[_excel_text(v) for v in r] + [""] * (width - len(r)) for r in rows[1:]]
    frame = pd.DataFrame(body, columns=range(width), dtype=object) if body else pd.DataFrame(columns=range(width))
    frame.columns = _dedupe(header)
    return frame, chosen


def _check_sheet_cells(data: bytes, member: str, name: str) -> None:
    """Refuse a sheet with more than :data:`MAX_XLSX_CELLS` cells, counted in its decompressed XML
    before any of it is parsed (decompressing and counting take seconds; parsing would take hours).

    Counts ``<c `` and ``<c>`` tags chunk by chunk; a two-byte tail carried between chunks catches a tag
    split across them without counting any twice (a three-byte tag cannot fit in two bytes). Sheets
    written with a namespace prefix (``<x:c``) are not counted here; the row-by-row budget in
    :func:`_read_xlsx` still bounds them."""
    cells, tail = 0, b""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(member.lstrip("/")) as xml:
        while chunk := xml.read(_CHUNK):
            block = tail + chunk
            cells += block.count(b"<c ") + block.count(b"<c>")
            tail = block[-2:]
            if cells > MAX_XLSX_CELLS:
                raise DataFileError(_too_many_sheet_cells(name))


def _too_many_sheet_cells(name: str) -> str:
    return _too_many(name, _SHEET_CELLS, _more_than(MAX_XLSX_CELLS), MAX_XLSX_CELLS,
                     tr("Large registries read much faster as CSV: save the sheet as CSV UTF-8 and upload that."))


def _excel_text(value: object) -> str:
    text = _cell_text(value)
    return "" if text in _EXCEL_ERRORS else text


def _header_label(value: object, index: int) -> str:
    return _cell_text(value) or f"Unnamed: {index}"  # pandas' name for a blank header (reported later)


def _dedupe(labels: list[str]) -> list[str]:
    """Repeated column names made distinct as pandas does (``a``, ``a.1``, ``a.2``)."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append(label if n == 0 else f"{label}.{n}")
    return out


def _read_parquet(data: bytes, name: str) -> tuple[pd.DataFrame, str]:
    """A Parquet table, after its metadata (rows, columns, uncompressed size) passed the limits: a
    few kilobytes of Parquet can declare 50 million rows."""
    import pandas as pd  # noqa: PLC0415  (see the imports)
    import pyarrow.parquet as pq  # noqa: PLC0415

    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        check_shape(name, meta.num_rows, meta.num_columns)
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if unpacked > MAX_UNCOMPRESSED_BYTES:
            raise DataFileError(tr("{name}: the Parquet file unpacks to {size} MB, more than the {limit} MB limit. "
                                   "Export only the registry's columns, or split the registry by center.", name=name,
                                   size=f"{unpacked / 2**20:,.0f}", limit=f"{MAX_UNCOMPRESSED_BYTES // 2**20:,}"))
        frame = pd.read_parquet(io.BytesIO(data))
    except DataFileError:
        raise
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        raise DataFileError(tr("{name}: the Parquet file cannot be read ({error}). Write it again, or export "
                               "the registry as CSV.", name=name, error=type(exc).__name__)) from None
    check_shape(name, len(frame), frame.shape[1])  # metadata could understate
    return frame, ""


def _check_stat_metadata(data: bytes, name: str, read) -> None:
    """Rows and columns of an SPSS or Stata file from its header (pyreadstat ``metadataonly``)."""
    _frame, meta = read(io.BytesIO(data), metadataonly=True)
    check_shape(name, meta.number_rows, meta.number_columns)


def _read_sav(data: bytes, name: str) -> tuple[pd.DataFrame, str]:
    import pyreadstat

    try:
        _check_stat_metadata(data, name, pyreadstat.read_sav)
        # value labels applied; read from memory (pyreadstat accepts file objects)
        frame, _meta = pyreadstat.read_sav(io.BytesIO(data), apply_value_formats=True)
    except DataFileError:
        raise
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        raise DataFileError(tr("{name}: the SPSS file cannot be read ({error}). Save it again from SPSS, or "
                               "export the registry as CSV.", name=name, error=type(exc).__name__)) from None
    return frame, ""


def _read_dta(data: bytes, name: str) -> tuple[pd.DataFrame, str]:
    import pandas as pd  # noqa: PLC0415  (see the imports)
    import pyreadstat

    try:
        _check_stat_metadata(data, name, pyreadstat.read_dta)
        # pandas applies Stata value labels itself and parses from memory.
        return pd.read_stata(io.BytesIO(data), convert_categoricals=True, convert_dates=True), ""
    except DataFileError:
        raise
    except Exception as exc:  # damaged or unsupported Stata versions
        raise DataFileError(tr("{name}: the Stata file cannot be read ({error}). Save it again from Stata "
                               "(version 13 or later), or export the registry as CSV.", name=name,
                               error=type(exc).__name__)) from None


# Text cells ----------------------------------------------------------------------------------------

def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):  # pd.Timestamp is a datetime
        if value != value:  # pd.NaT (a datetime too, the only one unequal to itself), without importing pandas per cell
            return ""
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
    import pandas as pd  # noqa: PLC0415  (see the imports)

    labels = [_cell_text(column) or f"column {i + 1}" for i, column in enumerate(frame.columns)]
    columns = [_column_text(frame.iloc[:, i]) for i in range(frame.shape[1])]
    out = pd.DataFrame(dict(zip(range(len(labels)), columns)), index=pd.RangeIndex(len(frame)))
    out.columns = labels  # set after building: duplicate labels stay distinct columns
    return out


def _column_text(values: pd.Series) -> np.ndarray:
    """One typed column as text, converting each *distinct* value once (a million-row column has a few
    thousand distinct dates); missing values (None, NaN, NaT, pd.NA) become ``""``."""
    import pandas as pd  # noqa: PLC0415  (see the imports)

    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
    except TypeError:  # unhashable cells (Parquet lists): one by one
        return np.array([_cell_text(v) for v in values.astype(object).tolist()], dtype=object)
    texts = np.array([_cell_text(u) for u in uniques] + [""], dtype=object)
    return texts[codes]  # code -1 (missing) picks the trailing ""


def _checked(raw: RawTable, trimmed: bool = False) -> RawTable:
    """``raw`` after the shape and header checks, every cell without surrounding spaces (``trimmed``:
    the reader already removed them)."""
    cells = raw.cells
    check_shape(raw.name, len(cells), cells.shape[1])  # the readers checked before parsing; this is the backstop
    cells.columns = [str(c).strip() for c in cells.columns]
    if cells.empty:
        raise DataFileError(tr("{name}: the file has a header but no patient rows.", name=raw.name))
    blank_names = [i + 1 for i, c in enumerate(cells.columns) if not c or c.startswith("Unnamed:")]
    if len(blank_names) == len(cells.columns):
        raise DataFileError(tr("{name}: the first row has no column names. Put the column names in the "
                               "first row and upload again.", name=raw.name))
    for i in range(0 if trimmed else cells.shape[1]):  # by column, replacing only changed ones: no copy
        column = cells.iloc[:, i]
        stripped = _stripped(column)
        if stripped is not column:
            cells.isetitem(i, stripped)
    return raw.with_cells(cells)


def _stripped(column: pd.Series) -> pd.Series:
    """Cells without surrounding spaces (the same object when none has any); computed on the distinct
    values (most columns repeat a lot)."""
    import pandas as pd  # noqa: PLC0415  (see the imports)

    if column.dtype != object:
        column = column.astype(str)
    distinct = column.unique()
    stripped = pd.Series(distinct).str.strip().to_numpy()
    changed = stripped != distinct
    if not changed.any():
        return column
    return column.map(dict(zip(distinct[changed], stripped[changed]))).fillna(column)
