"""Reading registry files from bytes (an upload or a file on disk) into a table of text cells.

Parsing of values (dates, numbers, booleans) is left to :mod:`hcc.validate`, so that every bad
cell can be reported with its row and column instead of disappearing in a reader's coercion.
Nothing here writes to disk or logs cell contents.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hcc.errors import DataFileError

#: Separators recognised in delimited text files, in order of preference.
SEPARATORS: tuple[str, ...] = (",", ";", "\t")
ENCODINGS: tuple[str, ...] = ("utf-8-sig", "cp932", "latin-1")


@dataclass(frozen=True, eq=False)
class RawTable:
    """A file's cells as text, before validation.

    Attributes
    ----------
    name : the file name shown to the user (never a server path).
    cells : every column as ``str``; empty cells are ``""``.
    sha256 : hex SHA-256 of the file's bytes (the data fingerprint).
    n_bytes : size of the file.
    encoding, separator : what the reader detected.
    """

    name: str
    cells: pd.DataFrame
    sha256: str
    n_bytes: int
    encoding: str
    separator: str


def fingerprint(data: bytes) -> str:
    """Hex SHA-256 of ``data``: identifies a registry file without keeping its content."""
    return hashlib.sha256(data).hexdigest()


def _decode(data: bytes, name: str) -> tuple[str, str]:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise DataFileError(f"{name}: the file's text encoding is not UTF-8, Shift-JIS or Latin-1; "
                        "save it as 'CSV UTF-8' and upload again.")


def _sniff_separator(text: str) -> str:
    header = text.splitlines()[0] if text else ""
    counts = {sep: header.count(sep) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def read_table(data: bytes, name: str) -> RawTable:
    """Read a delimited text registry export (CSV, semicolon- or tab-separated) from bytes.

    Parameters
    ----------
    data : the file's bytes.
    name : the file name, used in messages.

    Returns
    -------
    RawTable with every cell as text (``""`` for blanks) and column names stripped of spaces.

    Raises
    ------
    DataFileError
        If the file is empty, binary, or has no data rows; the message names the file and the fix.
    """
    if not data.strip():
        raise DataFileError(f"{name}: the file is empty. Export the registry again with a header row "
                            "and one row per patient.")
    if b"\x00" in data[:4096]:
        raise DataFileError(f"{name}: this is not a text (CSV) file. Save the registry as CSV and upload again.")
    text, encoding = _decode(data, name)
    sep = _sniff_separator(text)
    try:
        cells = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            skipinitialspace=True, quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, csv.Error) as exc:
        raise DataFileError(f"{name}: the file could not be read as a table ({exc}). "
                            "Check that every row has the same number of columns.") from None
    cells.columns = [str(c).strip() for c in cells.columns]
    if cells.empty:
        raise DataFileError(f"{name}: the file has a header but no patient rows.")
    cells = cells.apply(lambda s: s.str.strip())
    return RawTable(name=name, cells=cells, sha256=fingerprint(data), n_bytes=len(data),
                    encoding=encoding, separator=sep)


def read_path(path: str | Path) -> RawTable:
    """Read a registry file from disk (CLI, demo) with :func:`read_table`."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise DataFileError(f"{p.name}: cannot open the file ({exc.strerror}).") from None
    return read_table(data, p.name)
