"""``DataFrame``, the annotation of an asset input read whole as a pandas DataFrame, without
loading pandas when the code location loads.

Dagster resolves an asset function's annotations when the asset is defined (``typing.
get_type_hints``), so ``places: pd.DataFrame`` would load pandas at import, and an annotation
imported under ``TYPE_CHECKING`` alone fails to resolve. Dagster also takes a ``DagsterType`` as an
annotation: to the type checker this name is pandas' DataFrame; to Dagster, a type of the same name
whose check (run on the loaded input, when pandas is loaded anyway) is ``isinstance`` of it. The IO
manager reads an input whole unless the annotation is ``DailyRows``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dagster as dg

__all__ = ["DataFrame"]


def _is_data_frame(_context: Any, value: Any) -> bool:
    import pandas as pd

    return isinstance(value, pd.DataFrame)


if TYPE_CHECKING:
    from pandas import DataFrame
else:
    DataFrame = dg.DagsterType(
        name="DataFrame",
        type_check_fn=_is_data_frame,
        description="A pandas DataFrame: the input's partitions of its table, read whole.",
    )
