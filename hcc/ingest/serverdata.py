"""Registries kept beside the app: open a Parquet file or a DuckDB table by path, inside one
allow-listed server directory.

For deployments that keep the registry on the server instead of uploading it. Off unless the
directory is configured (environment variable :data:`ENV_VAR`, or ``[server_data] dir`` in
``.streamlit/secrets.toml``, read by the page); a user picks a file *in* that directory and can
never name another path (``..``, absolute paths and symbolic links out of it are refused), and a
DuckDB file is opened with external access disabled (its views cannot read other files). The file
is read, mapped and validated exactly like an upload (:func:`hcc.ingest.registry.load_bytes`), so every
page works on it; for registries too large for memory, analyse them in the database with
:mod:`hcc.engine` (``docs/performance.md``).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from hcc.errors import HCCError
from hcc.i18n import tr
from hcc.ingest.io import check_shape, read_file
from hcc.ingest.registry import Registry, load_bytes

#: Environment variable naming the allow-listed directory (unset = feature off).
ENV_VAR = "HCC_SERVER_DATA_DIR"
#: File endings offered: Parquet files and DuckDB database files.
SUFFIXES: tuple[str, ...] = (".parquet", ".duckdb")


class ServerDataError(HCCError):
    """A server-side path that is not allowed or cannot be read."""


def configured_dir(setting: str | None = None) -> Path | None:
    """The allow-listed directory: ``setting`` (from secrets.toml), else :data:`ENV_VAR`; ``None`` = off."""
    value = setting or os.environ.get(ENV_VAR)
    if not value:
        return None
    root = Path(value).expanduser().resolve()
    return root if root.is_dir() else None


def list_files(root: Path) -> tuple[str, ...]:
    """Parquet and DuckDB files under ``root`` (relative paths, sorted), symbolic links out excluded."""
    root = root.resolve()
    found = []
    for path in root.rglob("*"):
        if path.suffix.lower() in SUFFIXES and path.is_file() and path.resolve().is_relative_to(root):
            found.append(str(path.relative_to(root)))
    return tuple(sorted(found))


def resolve(root: Path, relative: str) -> Path:
    """``relative`` inside ``root``, or :class:`ServerDataError` if it leaves it or is not offered."""
    root = root.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ServerDataError(tr("{name}: only files inside the configured data directory can be opened.",
                                 name=relative))
    if path.suffix.lower() not in SUFFIXES or not path.is_file():
        raise ServerDataError(tr("{name}: not a Parquet or DuckDB file in the data directory.", name=relative))
    return path


def _connect(path: Path):
    """A read-only connection to a DuckDB file that cannot reach any other file or URL.

    ``enable_external_access = false`` is set when the connection opens, before any of the file's
    views can run: a view calling ``read_csv('/elsewhere/…')`` or ``read_parquet``, or an ``ATTACH``,
    fails with a permission error instead of reading outside the allowed directory.
    """
    import duckdb  # noqa: PLC0415

    try:
        return duckdb.connect(str(path), read_only=True, config={"enable_external_access": False})
    except duckdb.Error as exc:
        raise ServerDataError(tr("{name}: the DuckDB file cannot be opened ({error}).", name=path.name,
                                 error=type(exc).__name__)) from None


def duckdb_tables(path: Path) -> tuple[str, ...]:
    """Table and view names of a DuckDB database file (opened read-only, without external access)."""
    with _connect(path) as con:
        rows = con.execute("SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall()
    return tuple(r[0] for r in rows)


def read_bytes(path: Path, table: str | None = None) -> tuple[bytes, str]:
    """The file's bytes (Parquet), or a DuckDB table exported to Parquet bytes in memory; with the
    name shown for it (``file.duckdb:table``).

    Parquet files are read with :func:`hcc.ingest.io.read_file` (regular files within the size limit only); a
    DuckDB table's rows and columns are checked against :func:`hcc.ingest.io.check_shape` before it is read.
    """
    if path.suffix.lower() == ".parquet":
        return read_file(path), path.name
    if table is None or table not in duckdb_tables(path):
        raise ServerDataError(tr("{name}: choose one of its tables ({tables}).", name=path.name,
                                 tables=", ".join(duckdb_tables(path))))
    import duckdb  # noqa: PLC0415

    quoted = '"' + table.replace('"', "") + '"'
    shown = f"{path.name}:{table}"
    with _connect(path) as con:
        try:
            n_columns = len(con.execute(f"SELECT * FROM {quoted} LIMIT 0").description)
            n_rows = con.execute(f"SELECT count(*) FROM {quoted}").fetchall()[0][0]
            check_shape(shown, n_rows, n_columns)
            arrow = con.sql(f"SELECT * FROM {quoted}").to_arrow_table()
        except duckdb.PermissionException:
            raise ServerDataError(tr("{name}: this table is a view that reads files outside the data directory; "
                                     "only tables stored inside the DuckDB file can be opened. Ask the data manager "
                                     "to store it as a table (CREATE TABLE … AS SELECT …).", name=shown)) from None
        except duckdb.Error as exc:
            raise ServerDataError(tr("{name}: the table cannot be read ({error}).", name=shown,
                                     error=type(exc).__name__)) from None
    import pyarrow.parquet as pq  # noqa: PLC0415

    buffer = io.BytesIO()
    pq.write_table(arrow, buffer)
    return buffer.getvalue(), f"{path.name}:{table}"


def load_server_file(root: Path, relative: str, table: str | None = None) -> Registry:
    """Read, map and validate a Parquet file or DuckDB table inside ``root`` (as an upload)."""
    data, name = read_bytes(resolve(root, relative), table)
    return load_bytes(data, name)
