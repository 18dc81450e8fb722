"""The Kubernetes deployment, checked as far as a machine without a cluster allows: Dagster's
official chart rendered with the project's values by helm (values validated against the chart's
schema), every manifest validated against a pinned Kubernetes version, the instance config against
Dagster's own schema, and the pod a run really gets built by dagster-k8s's own job builder.
The image itself is tested in test_image.py; helm and the chart come from deploy_tools.py."""

from __future__ import annotations

import json
import re
import tomllib
from importlib.metadata import version
from typing import Any
from unittest import mock

import dagster as dg
import pytest
import yaml
from deploy_tools import (  # tests/scale/deploy_tools.py
    CODE_SERVER_DEPLOYMENT as CODE_SERVER,
)
from deploy_tools import (
    IMAGE_DIGEST,
    KUBERNETES_VERSION,
    NAMESPACE,
    RELEASE,
    ROOT,
    VALUES,
    VALUES_CELERY,
    container,
    find,
    helm_fixture,  # noqa: F401 (the `helm` fixture)
    instance_yaml,
)

from kedah_analytics.executors import ExecutorOptions, celery_config, executor_options, worker_config_yaml

BASE = (VALUES,)
CELERY = (VALUES, VALUES_CELERY)
VALUES_DOC = yaml.safe_load(VALUES.read_text())
IMAGE = VALUES_DOC["dagster-user-deployments"]["deployments"][0]["image"]["repository"] + "@" + IMAGE_DIGEST
WORKER = "kedah-analytics-celery-worker"
CREDENTIALS = "kedah-analytics-credentials"
SETTINGS = "kedah-analytics-settings"
SECRET_WORDS = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|PG_URL|BROKER)", re.IGNORECASE)
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DAGSTER_YAML = yaml.safe_load((ROOT / "dagster.yaml").read_text())


@pytest.mark.parametrize("values", [BASE, CELERY], ids=["k8s", "k8s+celery"])
def test_the_chart_renders_resources_that_kubernetes_accepts(helm, values):
    import kubernetes_validate

    docs = helm.render(values)
    for doc in docs:
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as err:
            pytest.fail(f"{doc['kind']} {doc['metadata']['name']}: {err.message} at {list(err.path)}")
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
    expected = {f"Deployment/{CODE_SERVER}", f"Deployment/{RELEASE}-dagster-daemon",
                f"Deployment/{RELEASE}-dagster-webserver", "Service/kedah-analytics",
                f"ConfigMap/{RELEASE}-dagster-instance", f"ConfigMap/{SETTINGS}"}  # fmt: skip
    if values == CELERY:
        expected.add(f"Deployment/{WORKER}")
    assert expected <= set(kinds), kinds
    # Nothing of the chart's own Celery path (CeleryK8sRunLauncher workers, RabbitMQ, Flower).
    assert not [k for k in kinds if re.search(r"celery-workers|rabbitmq|flower|redis", k)], kinds


def test_the_values_must_name_the_image_by_digest(helm):
    done = helm.template(BASE, sets=())
    assert done.returncode != 0
    assert "image.digest" in done.stderr, done.stderr
    # The chart's values schema is enforced (helm validates against it, offline).
    done = helm.template(BASE, sets=("dagster-user-deployments.deployments[0].port=3030x",))
    assert done.returncode != 0 and "port" in done.stderr, done.stderr


@pytest.mark.parametrize("values", [BASE, CELERY], ids=["k8s", "k8s+celery"])
def test_every_image_is_immutable(helm, values):
    """The project's image by digest wherever it runs; Dagster's by the version the project pins."""
    docs = helm.render(values)
    images = {}
    for doc in docs:
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            images[f"{doc['metadata']['name']}/{c['name']}"] = c["image"]
    ours = {k: v for k, v in images.items() if "kedah-analytics" in v}
    assert ours and set(ours.values()) == {IMAGE}, ours
    dagster_images = {k: v for k, v in images.items() if "/dagster/" in v}
    assert dagster_images and set(dagster_images.values()) == {
        f"docker.io/dagster/dagster-celery-k8s:{version('dagster')}"
    }, dagster_images
    for name, image in images.items():
        assert not image.endswith(":latest") and (":" in image.rsplit("/", 1)[-1] or "@" in image), name
    code_server = container(find(docs, "Deployment", CODE_SERVER))
    env = {e["name"]: e.get("value") for e in code_server["env"]}
    assert env["DAGSTER_CURRENT_IMAGE"] == IMAGE  # what the code server reports for run pods


def test_one_code_location_name_everywhere(helm):
    docs = helm.render(BASE)
    workspace = yaml.safe_load(
        find(docs, "ConfigMap", f"{RELEASE}-dagster-workspace-yaml")["data"]["workspace.yaml"]
    )
    (server,) = [entry["grpc_server"] for entry in workspace["load_from"]]
    local = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"][0]["python_module"]
    grpc = yaml.safe_load((ROOT / "deploy" / "workspace.grpc.yaml").read_text())["load_from"][0][
        "grpc_server"
    ]
    names = {
        "chart workspace": server["location_name"],
        "workspace.yaml": local["location_name"],
        "deploy/workspace.grpc.yaml": grpc["location_name"],
        "pyproject.toml": PYPROJECT["tool"]["dagster"]["code_location_name"],
    }
    assert len(set(names.values())) == 1, names
    # The workspace points at the code server's Service, on the port the code server listens on.
    service = find(docs, "Service", server["host"])
    assert [p["port"] for p in service["spec"]["ports"]] == [server["port"]]
    deployment = find(docs, "Deployment", CODE_SERVER)
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    args = container(deployment)["args"]
    assert args[args.index("-p") + 1] == str(server["port"])
    assert args[args.index("-m") + 1] == local["module_name"] == PYPROJECT["tool"]["dagster"]["module_name"]


def test_the_rendered_instance_passes_dagsters_schema_and_keeps_the_limits_of_dagster_yaml(
    helm, tmp_path, monkeypatch
):
    from dagster._core.instance.config import dagster_instance_config

    instance = instance_yaml(helm.render(BASE))
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(instance))
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "not-a-secret")
    config, _ = dagster_instance_config(str(tmp_path))  # raises on anything Dagster does not accept
    assert config["run_launcher"]["class"] == "K8sRunLauncher"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert (
        config["concurrency"]["runs"]["max_concurrent_runs"]
        == DAGSTER_YAML["concurrency"]["runs"]["max_concurrent_runs"]
    )
    assert (
        config["concurrency"]["pools"]["default_limit"]
        == DAGSTER_YAML["concurrency"]["pools"]["default_limit"]
    )
    assert (
        config["run_monitoring"]["free_slots_after_run_end_seconds"]
        == DAGSTER_YAML["run_monitoring"]["free_slots_after_run_end_seconds"]
    )
    for storage in ("run_storage", "event_log_storage", "schedule_storage"):
        db = config[storage]["config"]["postgres_db"]
        assert db["params"]["sslmode"] == "require" and db["password"] == {"env": "DAGSTER_PG_PASSWORD"}


def launched_job(instance_config: dict[str, Any], code_server: dict[str, Any]) -> dict[str, Any]:
    """The Kubernetes Job dagster-k8s's K8sRunLauncher submits for a run of this code location,
    from the rendered instance config and code server: its own launch code, the API call replaced."""
    import dagster_k8s.launcher
    from dagster._core.code_pointer import ModuleCodePointer
    from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
    from dagster._core.remote_origin import (
        GrpcServerCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.storage.dagster_run import DagsterRun
    from dagster._serdes.config_class import ConfigurableClassData
    from kubernetes.client import ApiClient

    launcher_config = instance_config["run_launcher"]
    env = {e["name"]: e.get("value") for e in code_server["env"]}
    # What the code server hands to launched runs when includeConfigInLaunchedRuns is on.
    context = json.loads(env.get("DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT") or "null")
    args = code_server["args"]
    module = args[args.index("-m") + 1]
    origin = RepositoryPythonOrigin(
        executable_path="/usr/local/bin/python", code_pointer=ModuleCodePointer(module, "defs", "/opt/dagster/app"),
        container_image=env["DAGSTER_CURRENT_IMAGE"], container_context=context,
    )  # fmt: skip
    location = GrpcServerCodeLocationOrigin(
        host="kedah-analytics", port=3030, location_name="kedah_analytics"
    )
    run = DagsterRun(
        job_name="collect_posts",
        run_id="0123abcd-0000-4000-8000-000000000000",
        job_code_origin=JobPythonOrigin("collect_posts", origin),
        remote_job_origin=RemoteJobOrigin(
            RemoteRepositoryOrigin(location, "__repository__"), "collect_posts"
        ),
    )
    with mock.patch.object(dagster_k8s.launcher, "load_kubernetes_config"):  # no cluster to read
        launcher = ConfigurableClassData(
            launcher_config["module"], launcher_config["class"], yaml.safe_dump(launcher_config["config"])
        ).rehydrate()
    instance = dg.DagsterInstance.ephemeral()
    instance.add_run(run)
    launcher.register_instance(instance)
    launcher._api_client = mock.Mock()  # type: ignore[attr-defined]
    launcher._launch_k8s_job_with_args("dagster-run-0123abcd", ["dagster", "api", "execute_run", "{}"], run)  # type: ignore[attr-defined]
    (call,) = launcher._api_client.create_namespaced_job_with_retries.call_args_list  # type: ignore[attr-defined]
    assert call.kwargs["namespace"] == NAMESPACE
    return ApiClient().sanitize_for_serialization(call.kwargs["body"])


@pytest.mark.parametrize("values", [BASE, CELERY], ids=["k8s", "k8s+celery"])
def test_a_run_pod_gets_its_own_resources_security_context_image_and_settings(helm, values):
    import kubernetes_validate

    docs = helm.render(values)
    launcher_values = VALUES_DOC["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]
    job = launched_job(instance_yaml(docs), container(find(docs, "Deployment", CODE_SERVER)))
    kubernetes_validate.validate(job, KUBERNETES_VERSION, strict=True)
    pod = job["spec"]["template"]["spec"]
    (run_container,) = pod["containers"]
    assert run_container["resources"] == launcher_values["containerConfig"]["resources"]
    assert run_container["securityContext"] == launcher_values["containerConfig"]["securityContext"]
    assert pod["securityContext"] == launcher_values["podSpecConfig"]["securityContext"]
    assert pod["securityContext"]["runAsUser"] == 10001 and pod["securityContext"]["runAsNonRoot"] is True
    assert run_container["image"] == IMAGE
    assert job["metadata"]["labels"]["dagster/code-location"] == "kedah_analytics"
    # The same settings and credentials as the code server; Dagster's storage password too.
    sources = {next(iter(s.values()))["name"] for s in run_container["envFrom"]}
    assert {SETTINGS, CREDENTIALS} <= sources
    names = {e["name"] for e in run_container["env"]}
    assert "DAGSTER_PG_PASSWORD" in names


def test_the_code_server_keeps_its_own_smaller_resources(helm):
    code_server = container(find(helm.render(BASE), "Deployment", CODE_SERVER))
    deployment_values = VALUES_DOC["dagster-user-deployments"]["deployments"][0]
    assert code_server["resources"] == deployment_values["resources"]
    assert code_server["securityContext"] == deployment_values["securityContext"]


@pytest.mark.parametrize("values", [BASE, CELERY], ids=["k8s", "k8s+celery"])
def test_settings_come_from_one_config_map_and_credentials_only_from_secrets(helm, values):
    docs = helm.render(values)
    settings = find(docs, "ConfigMap", SETTINGS)["data"]
    for name in settings:
        assert not SECRET_WORDS.search(name), f"{name} is a secret: it belongs in {CREDENTIALS}"
    assert executor_options(settings).kind == ("celery" if values == CELERY else "in_process")
    pods = [find(docs, "Deployment", CODE_SERVER)] + (
        [find(docs, "Deployment", WORKER)] if values == CELERY else []
    )
    for deployment in pods:
        c = container(deployment)
        sources = {next(iter(s.values()))["name"] for s in c["envFrom"]}
        assert {SETTINGS, CREDENTIALS} <= sources, deployment["metadata"]["name"]
        for variable in c.get("env", []):
            if "value" in variable and variable["name"] != "DAGSTER_CLI_API_GRPC_CONTAINER_CONTEXT":
                assert not SECRET_WORDS.search(variable["name"]), variable
        # Every pod that opens the instance has its storage password.
        password = next(e for e in c["env"] if e["name"] == "DAGSTER_PG_PASSWORD")
        assert password["valueFrom"]["secretKeyRef"] == {
            "name": VALUES_DOC["global"]["postgresqlSecretName"], "key": "postgresql-password"
        }  # fmt: skip
    assert not [d for d in docs if d["kind"] == "Secret"], "no secret is rendered from the values"


def test_celery_on_kubernetes_is_workers_of_the_same_image_behind_the_k8s_run_launcher(helm):
    docs = helm.render(CELERY)
    assert instance_yaml(docs)["run_launcher"]["class"] == "K8sRunLauncher"
    worker = find(docs, "Deployment", WORKER)
    c = container(worker)
    assert c["command"][:2] == ["kedah-analytics", "worker"]
    assert c["image"] == container(find(docs, "Deployment", CODE_SERVER))["image"] == IMAGE
    assert worker["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 10001
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert worker["spec"]["replicas"] >= 1
    # The run pods' executor is dagster-celery's, on the queue the workers read.
    settings = executor_options(find(docs, "ConfigMap", SETTINGS)["data"])
    from kedah_analytics.definitions import build_executor

    assert build_executor(settings).name == "celery"
    assert settings.queue == "kedah"


def test_the_readme_documents_what_the_values_do():
    readme = (ROOT / "README.md").read_text()
    kubernetes = readme[readme.index("### Kubernetes") :]
    assert "sslmode=require" in kubernetes  # the chart's storage requires TLS; so does KEDAH_PG_URL
    assert "values-celery.yaml" in kubernetes and "image.digest" in kubernetes
    assert "use the chart's\n`CeleryK8sRunLauncher`" not in kubernetes
    assert "default: multiprocess" not in VALUES.read_text()
    assert "unset: Dagster's default (one process per step" not in readme
    for line in VALUES.read_text().splitlines():
        assert not re.search(r"^\s*tag:\s*\"?(latest|0\.1\.0)", line), line


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
