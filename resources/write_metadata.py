"""What a write's materializations show: each partition's own figures, and the run's totals.

Each partition shows its stored rows, rows written, posts and a preview; the run's totals go under
``run_*`` names; every materialization names the table and its column schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import dagster as dg
import psycopg

from kedah_analytics.markdown import frame_table
from kedah_analytics.warehouse import WriteSummary, count_rows, table_columns
from kedah_analytics.warehouse.read import count_rows_by_partition
from kedah_analytics.warehouse.scope import RunScope, rows_by_partition
from kedah_analytics.warehouse.writes import Describe

if TYPE_CHECKING:
    import pandas as pd

PREVIEW_ROWS = 5


def _markdown_preview(df: pd.DataFrame) -> str:
    shown = df.head(PREVIEW_ROWS).drop(columns=[c for c in ("payload",) if c in df.columns])
    return frame_table(shown) if len(shown) else "(no rows)"


def table_schema(conn: psycopg.Connection, table: str) -> dict[str, Any]:
    """The table's name and column schema, as the Dagster UI shows them."""
    columns = table_columns(conn, table)
    return {
        "dagster/table_name": f"kedah.{table}",
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(c.name, c.type, constraints=dg.TableColumnConstraints(nullable=not c.not_null))
                for c in columns
            ]
        ),
    }


def table_metadata(
    conn: psycopg.Connection, table: str, written: pd.DataFrame, summary: WriteSummary
) -> dict[str, Any]:
    """What an unpartitioned write changed, the table and its column schema, the rows, a preview."""
    return {
        **summary.as_metadata(),
        **table_schema(conn, table),
        "dagster/row_count": count_rows(conn, table),
        "preview": dg.MetadataValue.md(_markdown_preview(written)),
    }


class PartitionFigures:
    """Each partition's own figures, recorded on that partition's materialization.

    A ranged run materializes every partition of its range; what each one shows (stored rows,
    rows written, posts, preview) is that partition's, never the run's. Run totals go under
    ``run_*`` names with a per-partition table."""

    def __init__(self, describe: Describe | None):
        self.describe = describe
        self.figures: dict[str, dict[str, Any]] = {}
        self.previews: dict[str, str] = {}

    def record(
        self,
        conn: psycopg.Connection,
        table: str,
        subset: RunScope,
        rows: pd.DataFrame,
        summary: WriteSummary | None = None,
    ) -> None:
        """Note the figures of ``subset``'s partitions, just written with ``rows``."""
        if not len(subset):
            return
        stored = count_rows_by_partition(conn, table, subset.rows)
        merged = summary.extra.get("by_partition") if summary is not None else None
        for value, part in rows_by_partition(rows, subset.rows).items():
            key = subset.key_of(value)
            figures: dict[str, Any] = {"rows_stored": stored[value], "rows_written": len(part)}
            if merged is not None:
                figures.update(merged.get(value, {"inserted": 0, "updated": 0}))
            if self.describe is not None:
                figures.update(self.describe(part))
            self.figures[key] = figures
            self.previews[key] = _markdown_preview(part)

    def _partition_metadata(self, key: str) -> dict[str, Any]:
        figures = self.figures[key]
        return {
            "dagster/partition_row_count": figures["rows_stored"],
            **{k: v for k, v in figures.items() if k != "rows_stored"},
            "preview": dg.MetadataValue.md(self.previews[key]),
        }

    @contextmanager
    def kept_on_failure(self, context: dg.OutputContext, table: str) -> Iterator[None]:
        """A chunked write that fails still records the partitions its committed chunks stored.

        Each chunk commits on its own, so when a later chunk fails the earlier partitions hold their
        new rows: they are recorded as materialized (the run still fails), so the UI shows what the
        warehouse holds."""
        try:
            yield
        except BaseException:
            for key in sorted(self.figures):
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=context.asset_key,
                        partition=key,
                        description=f"stored in kedah.{table} before a later chunk of the run failed",
                        metadata=self._partition_metadata(key),
                    )
                )
            raise

    def publish(self, context: dg.OutputContext, run: dict[str, Any]) -> None:
        """Onto each partition: its own figures first, then the run's (``run``, every name ``run_*``
        or the table's own, and the totals of the figures).

        Dagster lists an output's metadata before the partition's own on every partition of a
        ranged run, so nothing goes into the output's metadata: all of it goes on each partition."""
        run = {**run, **self._run_totals(context)}
        step = context.step_context
        for key in self.figures:
            step.add_asset_metadata(
                {**self._partition_metadata(key), **run}, asset_key=context.asset_key, partition_key=key
            )

    def _run_totals(self, context: dg.OutputContext) -> dict[str, Any]:
        asset_key = context.asset_key
        totals: dict[str, Any] = {}
        for figures in self.figures.values():
            for name, value in figures.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    totals[f"run_{name}"] = totals.get(f"run_{name}", 0) + value
        import pandas as pd

        table = pd.DataFrame([{"partition": k, **_scalars(f)} for k, f in sorted(self.figures.items())])
        if len(table) <= RUN_TABLE_MAX_PARTITIONS:
            return {**totals, "run_partitions": dg.MetadataValue.md(_bounded_markdown(table))}
        # Dagster copies a run's output metadata onto every partition's materialization: a year's
        # table on each of 1,460 partitions would weigh tens of MB in the event log. It goes into
        # the run's log once instead.
        context.log.info(f"kedah.{asset_key.path[-1]}: rows per partition\n{_bounded_markdown(table)}")
        return {**totals, "run_partitions": f"{len(table)} partitions: the table is in the run's log"}


def _scalars(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures that fit a table's cell (a partition's list of top places does not)."""
    return {k: v for k, v in figures.items() if isinstance(v, int | float | str)}


# Up to a month of partitions of one platform, or a week of four, carry the run's per-partition
# table in their metadata; longer runs write it to the run's log.
RUN_TABLE_MAX_PARTITIONS = 31
MAX_PARTITION_TABLE_ROWS = 400


def _bounded_markdown(table: pd.DataFrame) -> str:
    if len(table) <= MAX_PARTITION_TABLE_ROWS:
        return frame_table(table)
    shown = frame_table(table.head(MAX_PARTITION_TABLE_ROWS))
    return f"{shown}\n\n({len(table) - MAX_PARTITION_TABLE_ROWS} more partitions not shown)"
