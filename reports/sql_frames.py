"""Query results into pandas frames, cheaply: typed columns straight from the DBAPI rows
(`read_frame`), or, for many rows, each column joined into one text by the database and split here
at once (`Columnar`, `read_columns`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

_SEPARATOR = "\x1f"  # the unit separator: in no id, and JSON text escapes it
_NULL = -(2**62)


@dataclass(frozen=True)
class Columnar:
    """A query read column by column (`read_columns`): the database joins each column into one text."""

    rows: Any  # the query, as rows
    joined: Any  # count(*), then each column joined
    numbers: tuple[str, ...]
    nullable: tuple[str, ...]
    json_values: tuple[str, ...]

    @classmethod
    def of(cls, dialect: str, query, numbers: Sequence[str] = (), *, nullable: Sequence[str] = (), json_values: Sequence[str] = ()) -> Columnar:
        """`numbers` are whole numbers; `nullable` texts come back None when NULL or empty;
        `json_values` (JSON texts) come back parsed, None when NULL."""
        rows, joined = query.subquery(), [sa.func.count()]
        for column in rows.c:
            if column.name in numbers:
                number = sa.func.coalesce(column, _NULL)
                joined.append(_join(dialect, number if dialect == "sqlite" else sa.cast(number, sa.Text), ","))
            elif column.name in json_values:
                joined.append(_join(dialect, sa.func.coalesce(column, "null"), ","))
            else:
                joined.append(_join(dialect, sa.func.coalesce(column, ""), _SEPARATOR))
        return cls(query, sa.select(*joined), tuple(numbers), tuple(nullable), tuple(json_values))


def read_columns(conn: Connection, query: Columnar, values: dict[str, Any]) -> pd.DataFrame:
    """Like `read_frame`, for many rows: each column comes as one text, split here at once, so that
    100,000 rows make a few Python objects, not a million. Texts holding the separator are read as
    rows instead."""
    count, *texts = conn.execute(query.joined, values).one()
    columns = {}
    for column, text in zip(query.rows.selected_columns, texts):
        if column.name in query.numbers:
            array = np.fromstring(text or "", dtype=np.int64, sep=",")
            if (array == _NULL).any():  # NULL: the numbers stay objects, None among them
                array = np.where(array == _NULL, None, array.astype(object))  # type: ignore[call-overload]  # numpy's stubs take no None, which object arrays hold
        elif column.name in query.json_values:
            array = _objects(json.loads(f"[{text or ''}]"))
        else:
            array = np.array(text.split(_SEPARATOR) if count else [], dtype=object)
            if column.name in query.nullable:
                array[array == ""] = None  # type: ignore[call-overload]  # numpy's stubs take no None, which object arrays hold
        if len(array) != count:
            frame = read_frame(conn, query.rows, query.numbers, json_values=query.json_values, values=values)
            for name in query.nullable:
                frame[name] = frame[name].where(frame[name].notna() & (frame[name] != ""), None)
            return frame
        columns[column.name] = array
    return _frame_of(columns)


def _objects(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _frame_of(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A frame of these arrays as they are (pandas would read text as its string dtype)."""
    return pd.DataFrame({name: pd.Series(values, dtype=values.dtype, copy=False) for name, values in columns.items()})


def _join(dialect: str, value, separator: str):
    if dialect == "sqlite":
        return sa.func.group_concat(value, separator)
    return sa.func.string_agg(value, separator)


def read_frame(conn: Connection, query, numbers: Sequence[str] = (), *, json_values: Sequence[str] = (), values: dict[str, Any] | None = None) -> pd.DataFrame:
    """The rows in object columns, the `numbers` in int64 ones unless one is NULL, `json_values` (JSON
    texts) parsed. Plain DBAPI rows: building a frame from SQLAlchemy Row objects, or inferring pandas'
    string dtype, costs more than the query; numpy turns the rows into typed columns in one go."""
    result = conn.execute(query, values or {})
    names, rows = list(result.keys()), result.cursor.fetchall()
    frame = None
    if numbers:
        try:
            array = np.array(rows, dtype=[(name, np.int64 if name in numbers else object) for name in names])
            frame = _frame_of({name: array[name] for name in names})
        except (TypeError, ValueError):
            pass  # a NULL among the numbers
    if frame is None:
        frame = pd.DataFrame(rows, columns=names, dtype=object)
    for name in json_values:
        frame[name] = parse_json(frame[name].to_numpy(dtype=object))
    return frame


def parse_json(texts: np.ndarray) -> np.ndarray:
    """JSON texts (None: NULL) parsed at once."""
    return _objects(json.loads("[" + ",".join("null" if t is None else t for t in texts) + "]"))


def ints_or_zero(values: pd.Series) -> np.ndarray:
    """Whole numbers from an object column of ints (None: 0)."""
    array = values.to_numpy(dtype=object)
    try:
        return array.astype(np.int64)
    except TypeError:  # None among them
        return np.where(pd.isna(array), 0, array).astype(np.int64)
