"""A table's columns, and a DataFrame's values made ready for binary COPY into them.

Every value passes the storage boundary (``sanitize.py``) on its way: NaN, NaT and NA become NULL,
texts lose NUL characters, JSON is made storable, integers are checked against bigint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from kedah_analytics.warehouse.sanitize import CleanJsonObject, clean_json, clean_text, storable_int

if TYPE_CHECKING:
    import pandas as pd

SCHEMA = "kedah"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as format_type() prints it: text, bigint, text[], jsonb, ...
    not_null: bool


def table_columns(conn: psycopg.Connection, table: str) -> list[Column]:
    """The columns of ``kedah.<table>`` in table order."""
    rows = conn.execute(
        """SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
           FROM pg_attribute a
           WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum""",
        (f"{SCHEMA}.{table}",),
    ).fetchall()
    if not rows:
        raise LookupError(f"table {SCHEMA}.{table} does not exist; run `kedah-analytics db migrate`")
    return [Column(name, type_, not_null) for name, type_, not_null in rows]


def qualified(table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(table))


def _missing_test() -> Callable[[Any], bool]:
    """Whether a value is stored as NULL (None, NaT, NA, NaN); pandas loads with the first write."""
    import pandas as pd

    nat, na, isnan = pd.NaT, pd.NA, math.isnan

    def is_missing(value: Any) -> bool:
        if value is None or value is nat or value is na:
            return True
        return isinstance(value, float) and isnan(value)

    return is_missing


def _column_values(series: pd.Series, column: Column) -> list[Any]:
    """Python values for COPY: NaN/NaT/NA become NULL, arrays lists, jsonb wrapped."""
    import numpy as np
    import pandas as pd

    _is_missing = _missing_test()
    if column.type.endswith("[]"):
        element_is_text = column.type == "text[]"
        return [
            None
            if not isinstance(v, list | tuple | np.ndarray) and _is_missing(v)
            else [_text(e) for e in v]
            if element_is_text
            else list(v)
            for v in series.tolist()
        ]
    if column.type == "jsonb":
        return [
            None if v is None else Jsonb(v if type(v) is CleanJsonObject else clean_json(v)[0])
            for v in series.tolist()
        ]
    if column.type == "text":
        return [None if _is_missing(v) else _text(v) for v in series.tolist()]
    if column.type == "date":
        return [
            None if _is_missing(v) else (v.date() if isinstance(v, pd.Timestamp) else v)
            for v in series.tolist()
        ]
    if column.type in ("bigint", "integer", "smallint"):
        if series.dtype == np.int64:  # Python ints, each within bigint: nothing to look at
            return series.tolist()
        return [None if _is_missing(v) else storable_int(v, column.name) for v in series.tolist()]
    if column.type in ("double precision", "real", "numeric"):
        if series.dtype == np.float64:  # Python floats; NaN (never equal to itself) is NULL
            return [None if v != v else v for v in series.tolist()]
        return [None if _is_missing(v) else float(v) for v in series.tolist()]
    if column.type.startswith("timestamp"):
        if series.dtype.kind == "M":  # datetime64, with or without a zone: converted at once
            missing = series.isna().tolist()
            return [
                None if gone else v
                for v, gone in zip(series.dt.to_pydatetime().tolist(), missing, strict=True)
            ]
        return [
            None if _is_missing(v) else v.to_pydatetime() if isinstance(v, pd.Timestamp) else v
            for v in series.tolist()
        ]
    return [None if _is_missing(v) else v for v in series.tolist()]


def _text(value: Any) -> str | None:
    """Every text bound for PostgreSQL passes the sanitizer (NUL removed, lone surrogates replaced)."""
    if value is None:
        return None
    return clean_text(value if isinstance(value, str) else str(value))


def prepare(conn: psycopg.Connection, table: str, df: pd.DataFrame) -> tuple[list[Column], Iterator[tuple]]:
    columns = {c.name: c for c in table_columns(conn, table)}
    unknown = [c for c in df.columns if c not in columns]
    if unknown:
        raise ValueError(f"{SCHEMA}.{table} has no column(s) {unknown}; known: {list(columns)}")
    used = [columns[c] for c in df.columns]
    values = [_column_values(df[c.name], c) for c in used]
    return used, zip(*values, strict=True)


def copy_rows(
    cur: psycopg.Cursor, target: sql.Composable, columns: Sequence[Column], rows: Iterable[tuple]
) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        target, sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    )
    count = 0
    with cur.copy(statement) as copy:
        copy.set_types([c.type for c in columns])
        for row in rows:
            copy.write_row(row)
            count += 1
    return count
