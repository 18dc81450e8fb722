"""Which Dagster executor runs a job's steps, chosen by environment, never by editing code.

``KEDAH_EXECUTOR`` picks it: unset (Dagster's default: one process per step on this machine,
in-process under ``execute_in_process``), ``in_process``, ``multiprocess`` or ``celery``. With
``celery`` the steps go to dagster-celery workers through the broker ``KEDAH_CELERY_BROKER``
(RabbitMQ), with results through ``KEDAH_CELERY_BACKEND`` (default ``rpc://``, RabbitMQ again),
on the queue ``KEDAH_CELERY_QUEUE`` (default ``dagster``, dagster-celery's own).

The executor (kedah_analytics.definitions) and the workers (``kedah-analytics worker``) read
the same :func:`celery_config`, so they always agree on broker, backend and queue. No Dagster
import here: this module only decides; definitions.py builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from kedah_analytics.config.settings import CELERY_BACKEND, CELERY_BROKER, CELERY_QUEUE, Settings

ExecutorKind = Literal["in_process", "multiprocess", "celery"]
DEFAULT_BROKER = CELERY_BROKER.default or ""
DEFAULT_BACKEND = CELERY_BACKEND.default or ""
DEFAULT_QUEUE = CELERY_QUEUE.default or ""


@dataclass(frozen=True)
class ExecutorOptions:
    kind: ExecutorKind = "in_process"
    broker: str = DEFAULT_BROKER
    backend: str = DEFAULT_BACKEND
    queue: str = DEFAULT_QUEUE


def executor_options(environ: Mapping[str, str] | None = None) -> ExecutorOptions:
    """The executor the environment selects (``kedah_analytics.config.settings`` names the
    variables, their defaults and allowed values)."""
    return options_from(Settings.from_env(environ))


def options_from(read: Settings) -> ExecutorOptions:
    """The executor options in already-read settings."""
    return ExecutorOptions(
        kind=cast(ExecutorKind, read.executor),  # one of EXECUTOR.choices, checked by Settings
        broker=read.celery_broker.get_secret_value(),
        backend=read.celery_backend,
        queue=read.celery_queue,
    )


def celery_config(options: ExecutorOptions) -> dict[str, Any]:
    """The dagster-celery executor config block, shared by the executor and its workers.

    ``task_acks_late``: a worker acknowledges a step only once it has finished, so the broker
    hands the step of a worker that died to another worker instead of losing it (a lost step
    would leave its run waiting forever). Steps are safe to run twice: raw posts merge on their
    key and every derived partition is replaced in one transaction.
    ``worker_prefetch_multiplier=1``: a worker reserves one step at a time, so a long backfill
    step never holds others back while another worker idles.
    """
    return {
        "broker": options.broker,
        "backend": options.backend,
        "config_source": {
            "task_default_queue": options.queue,
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
        },
    }


def worker_command(
    options: ExecutorOptions, config_yaml: str, name: str | None = None, concurrency: int = 1
) -> list[str]:
    """``dagster-celery worker start`` for this project's queue, with its config written at
    ``config_yaml`` (see :func:`worker_config_yaml`)."""
    command = ["dagster-celery", "worker", "start", "-A", "dagster_celery.app", "-y", config_yaml,
               "-q", options.queue]  # fmt: skip
    if name:
        command += ["-n", name]
    # Passed through to `celery worker`: how many steps this worker runs at once.
    return command + ["--", f"--concurrency={concurrency}"]


def worker_config_yaml(options: ExecutorOptions) -> str:
    """The config file ``dagster-celery worker start -y`` reads: the executor's own block."""
    import yaml

    return yaml.safe_dump({"execution": {"config": celery_config(options)}}, sort_keys=False)
