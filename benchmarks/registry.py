"""Benchmark registries: a synthetic registry of N patients in the data contract, as the raw CSV a
registry exports (what a user uploads or gives to ``python -m hcc analyze``) or as the canonical
Parquet table :mod:`hcc.engine` reads.

    python -m benchmarks.registry --n 1000000 --out /tmp/reg_1e6.csv
    python -m benchmarks.registry --n 10000000 --out /tmp/reg_1e7.parquet

The rows come from the demo generator (:func:`hcc.reference.synth.generate`), which is vectorised and
scales linearly (about 6 s per million patients here). Ages are top-coded at 89 so the file loads
without the identifier confirmation (an age over 89 is an identifier, ``docs/upload.md``). Large
registries are made in blocks of :data:`BLOCK` patients, block ``k`` with seed ``seed + k`` and
patient codes ``SYN<k>-<i>``, so memory stays that of one block (about 2 GB at 1e6) whatever N is.
Synthetic data only: no row describes a real patient. Write the files under /tmp, never in the repository.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from hcc.reference.synth import generate, write_csv
from hcc.schema import DATE_COLUMNS, Col

#: Patients generated at once (larger N is made block by block).
BLOCK = 1_000_000
DEFAULT_SEED = 1


def block(n: int, seed: int, index: int = 0, blocks: int = 1) -> pd.DataFrame:
    """``n`` synthetic patients (generator seed ``seed + index``), ages top-coded at 89; with more than
    one block, patient codes carry the block number so that they stay unique."""
    frame = generate(n_patients=n, seed=seed + index)
    frame[Col.AGE] = frame[Col.AGE].clip(upper=89)
    if blocks > 1:
        frame[Col.PATIENT_ID] = [f"SYN{index:03d}-{i:07d}" for i in range(1, n + 1)]
    return frame


def _blocks(n: int) -> list[int]:
    return [BLOCK] * (n // BLOCK) + ([n % BLOCK] if n % BLOCK else [])


def write_registry_csv(n: int, path: str | Path, seed: int = DEFAULT_SEED) -> Path:
    """The raw registry CSV of ``n`` patients (the demo registry's layout: ISO dates, yes/no, blanks
    empty), written block by block."""
    path = Path(path)
    sizes = _blocks(n)
    with path.open("w", encoding="utf-8", newline="") as out:
        for k, size in enumerate(sizes):
            part = block(size, seed, k, len(sizes))
            tmp = path.with_suffix(f".part{k}")
            write_csv(part, tmp)  # the generator's own writer: the file is exactly the demo's format
            text = tmp.read_text(encoding="utf-8")
            tmp.unlink()
            out.write(text if k == 0 else text.split("\n", 1)[1])
    return path


def write_registry_parquet(n: int, path: str | Path, seed: int = DEFAULT_SEED) -> Path:
    """The canonical registry table of ``n`` patients as Parquet, as :func:`hcc.engine.write_parquet`
    writes a validated registry (dates as DATE, flags as BOOLEAN), one row group per block."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    sizes = _blocks(n)
    writer = None
    try:
        for k, size in enumerate(sizes):
            table = pa.Table.from_pandas(block(size, seed, k, len(sizes)), preserve_index=False)
            for name in DATE_COLUMNS:
                table = table.set_column(table.column_names.index(name), name, table.column(name).cast(pa.date32()))
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(str(path), schema)
            writer.write_table(table.cast(schema))  # a column all blank in one block keeps the first's type
    finally:
        if writer is not None:
            writer.close()
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.registry", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, required=True, help="patients")
    parser.add_argument("--out", type=Path, required=True, help="a .csv (raw export) or .parquet (canonical) file")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if args.out.suffix == ".parquet":
        write_registry_parquet(args.n, args.out, args.seed)
    else:
        write_registry_csv(args.n, args.out, args.seed)
    print(f"wrote {args.n:,} synthetic patients to {args.out}")


if __name__ == "__main__":
    main()
