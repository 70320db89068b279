"""The loaded registry: canonical frame + validation findings + fingerprint, and the demo registry."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hcc.io import RawTable, read_path, read_table
from hcc.schema import Col, STUDY_REGIMENS
from hcc.validate import Issue, Severity, validate

#: The bundled synthetic demo registry (made by ``python -m hcc.synth``).
DEMO_PATH: Path = Path(__file__).resolve().parent.parent / "data" / "demo_registry.csv"
DEMO_LABEL = "Synthetic demo registry (not real patients)"


@dataclass(frozen=True, eq=False)
class Registry:
    """A validated registry, ready for cohort rules.

    Attributes
    ----------
    name : file name as the user knows it.
    is_demo : True for the bundled synthetic registry.
    frame : canonical rows kept (one per patient).
    issues : every problem found, in file order.
    excluded : rows kept out of every analysis, with ``row``, ``patient_id``, ``reason``.
    rows_read : data rows in the file.
    sha256 : SHA-256 of the file's bytes.
    absent_columns : optional contract columns the file lacks (analyses needing them are unavailable).
    unknown_columns : file columns outside the contract (ignored).
    """

    name: str
    is_demo: bool
    frame: pd.DataFrame
    issues: tuple[Issue, ...]
    excluded: pd.DataFrame
    rows_read: int
    sha256: str
    absent_columns: tuple[str, ...]
    unknown_columns: tuple[str, ...]

    @property
    def label(self) -> str:
        """How the data source is named on every screen."""
        return DEMO_LABEL if self.is_demo else f"Uploaded file: {self.name}"

    @property
    def n_patients(self) -> int:
        return len(self.frame)

    @property
    def regimens(self) -> tuple[str, ...]:
        """First-line regimens present: the study's three first, then others by frequency."""
        return order_regimens(self.frame[Col.REGIMEN_1L])

    def regimen_counts(self) -> dict[str, int]:
        """Patients per first-line regimen, in display order."""
        counts = self.frame[Col.REGIMEN_1L].value_counts()
        return {r: int(counts[r]) for r in self.regimens}

    @property
    def n_errors(self) -> int:
        return sum(1 for i in self.issues if i.severity is Severity.ERROR)

    @property
    def n_warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity is Severity.WARNING)


def order_regimens(values: pd.Series) -> tuple[str, ...]:
    """Regimen codes in display order: SOR, LEN, ATZ_BEV, then any others by descending count."""
    counts = values.dropna().value_counts()
    study = [r for r in STUDY_REGIMENS if r in counts.index]
    others = sorted((r for r in counts.index if r not in STUDY_REGIMENS), key=lambda r: (-counts[r], r))
    return tuple(study + others)


def from_raw(raw: RawTable, *, is_demo: bool = False) -> Registry:
    """Validate a raw table into a :class:`Registry`."""
    checked = validate(raw)
    return Registry(name=raw.name, is_demo=is_demo, frame=checked.frame, issues=checked.issues,
                    excluded=checked.excluded, rows_read=len(raw.cells), sha256=raw.sha256,
                    absent_columns=checked.absent_columns, unknown_columns=checked.unknown_columns)


def load_bytes(data: bytes, name: str) -> Registry:
    """Read and validate an uploaded file held in memory (never written to disk)."""
    return from_raw(read_table(data, name))


def load_path(path: str | Path) -> Registry:
    """Read and validate a registry file on disk."""
    return from_raw(read_path(path), is_demo=Path(path).resolve() == DEMO_PATH)


def load_demo() -> Registry:
    """The bundled synthetic demo registry."""
    return from_raw(read_path(DEMO_PATH), is_demo=True)
