"""A canonical registry rewritten the way real exports look: other column names, free-text regimens,
day-first dates, response words, ○/× flags. Used by the format and mapping tests."""

from __future__ import annotations

import pandas as pd

from hcc.schema import ATZ_BEV, BOOL_COLUMNS, DATE_COLUMNS, LEN, SOR, Col

#: Canonical column → the export's column name (each one a synonym or fuzzy match).
RENAMES: dict[str, str] = {
    Col.PATIENT_ID: "Patient ID", Col.CENTER: "Site", Col.REGIMEN_1L: "1L regimen", Col.START_1L: "Start date",
    Col.BEST_RESPONSE_1L: "Best response", Col.DATE_PROGRESSION_1L: "Progression date",
    Col.DATE_DEATH: "Date of death", Col.DATE_LAST_FOLLOWUP: "Last follow-up", Col.AGE: "Age (years)",
    Col.SEX: "Gender", Col.CHILD_PUGH_CLASS: "Child-Pugh class", Col.ECOG: "ECOG PS",
    Col.CONCOMITANT_LRT: "Concomitant LRT", Col.INTERLINE_LRT: "Interline LRT", Col.TRIAL_AFTER_1L: "Clinical trial",
}
REGIMEN_WORDS = {SOR: "Nexavar", LEN: "LENVIMA", ATZ_BEV: "Atezo+Bev"}
RESPONSE_WORDS = {"CR": "Complete response", "PR": "Partial response", "SD": "Stable disease",
                  "PD": "Progressive disease", "NE": "Not evaluable"}


def messy(frame: pd.DataFrame, *, date_format: str = "%d/%m/%Y") -> pd.DataFrame:
    """The columns of :data:`RENAMES` from a canonical frame (typed, as a Registry holds it), as text."""
    out = pd.DataFrame()
    for col, name in RENAMES.items():
        values = frame[col]
        if col in DATE_COLUMNS:
            text = values.dt.strftime(date_format).fillna("")
        elif col in BOOL_COLUMNS:
            text = values.map({True: "○", False: "×"}).astype(object).fillna("")
        elif col == Col.REGIMEN_1L:
            text = values.map(lambda r: REGIMEN_WORDS.get(r, r))
        elif col == Col.BEST_RESPONSE_1L:
            text = values.map(RESPONSE_WORDS).fillna("")
        elif col == Col.SEX:
            text = values.map({"M": "male", "F": "female"}).fillna("")
        else:
            text = values.map(lambda v: "" if pd.isna(v) else (str(int(v)) if isinstance(v, float) and v.is_integer()
                                                              else str(v)))
        out[name] = text.astype(str)
    return out


def messy_export(n: int = 300) -> bytes:
    """CSV bytes of demo rows as a messy export that needs a person's decisions: other names and words,
    month-first dates that are all ambiguous in the start column, a start column named nothing like
    ``start_1l`` ("Tx begin"), and a column of patient names. Ages are kept below 90."""
    from hcc.ingest.registry import load_demo

    frame = load_demo().frame
    frame = frame[frame[Col.START_1L].dt.day <= 12].iloc[::3].head(n).copy()  # every regimen
    frame[Col.AGE] = frame[Col.AGE].clip(upper=89)
    table = messy(frame, date_format="%m/%d/%Y").rename(columns={RENAMES[Col.START_1L]: "Tx begin"})
    table.insert(1, "Patient name", [f"Name{i} Surname{i}" for i in range(len(table))])
    return table.to_csv(index=False).encode("utf-8")
