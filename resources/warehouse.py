"""The PostgreSQL warehouse as a resource, for reads, checks and the quarantine.

Tables are written by the IO manager (``resources/io_manager.py``) only."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import psycopg
from pydantic import Field

from kedah_analytics.config.settings import PG_URL
from kedah_analytics.deferrals import Deferral, record_deferral
from kedah_analytics.domain import DEMO_PROVIDER, QuarantinedRecord
from kedah_analytics.quality.tables import CheckOutcome
from kedah_analytics.warehouse import PartitionFilter, apply_migrations
from kedah_analytics.warehouse.connection import connect
from kedah_analytics.warehouse.load import refuse_demo_over_real
from kedah_analytics.warehouse.quarantine import quarantine_records

_migrated: set[str] = set()
_migrate_lock = threading.Lock()
PREVIEW_ROWS = 5


def ensure_migrated(url: str) -> None:
    """Apply pending migrations once per process and URL."""
    with _migrate_lock:
        if url not in _migrated:
            apply_migrations(url)
            _migrated.add(url)


class PostgresWarehouse(dg.ConfigurableResource):
    """The warehouse (schema ``kedah``) for reads, checks and the quarantine; tables are written by
    the IO manager."""

    url: str = Field(description=f"PostgreSQL URL ({PG_URL.name})")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        ensure_migrated(self.url)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with connect(self.url) as conn:
            yield conn

    def quarantine(self, asset: str, partition_key: str, records: Sequence[QuarantinedRecord]) -> int:
        with self.connection() as conn:
            return quarantine_records(conn, asset, partition_key, records)

    def run_check(
        self,
        check: Callable[..., CheckOutcome],
        *args: Any,
        severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
        **kwargs: Any,
    ) -> dg.AssetCheckResult:
        """Run a check of ``kedah_analytics.quality.tables`` and report it to Dagster."""
        with self.connection() as conn:
            outcome = check(conn, *args, **kwargs)
        return dg.AssetCheckResult(passed=outcome.passed, metadata=outcome.details, severity=severity)

    def check_each(
        self,
        check: Callable[..., CheckOutcome],
        partitions: Sequence[PartitionFilter],
        *args: Any,
        **kwargs: Any,
    ) -> list[CheckOutcome]:
        """Run a check once per partition, on one connection: its outcome for each, in order."""
        with self.connection() as conn:
            return [check(conn, *args, partitions=rows, **kwargs) for rows in partitions]

    def defer(self, deferred: Deferral) -> None:
        """Keep a source's deferral (its quota ran out) where the schedules read it."""
        record_deferral(self.url, deferred)

    def refuse_demo_over_real(self, table: str, partitions: PartitionFilter) -> None:
        """Before a demo source runs: fail if ``partitions`` hold real rows (the warehouse's one rule,
        ``refuse_demo_over_real``), rather than invent rows that could never be written."""
        with self.connection() as conn:
            refuse_demo_over_real(conn, table, partitions, DEMO_PROVIDER)
