"""The container's contents without a container engine: the Dockerfile's own wheel, built from
the files the Dockerfile copies, installed into a fresh virtualenv and started as the image
starts it; and the Dockerfile read for what the image promises (stages, user, health check)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bridge.conftest import API_KEY, APP_ORIGIN, SECRET_KEY, STITCH_TOKEN
from tests.live import free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
WHEEL_COMMAND = "python -m pip wheel --no-deps --wheel-dir /wheels . ./clients/python"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), " ".join(rest.split())))
    return found


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel the image installs: its build stage's files, its build command."""
    build = stages()[0]
    assert ("RUN", WHEEL_COMMAND) in [
        (word, args.split(" &&")[0]) for word, args in build if word == "RUN"
    ]
    source = tmp_path_factory.mktemp("context")
    for word, args in build:
        if word != "COPY" or args.startswith("--from"):
            continue
        *sources, destination = args.split()
        for name in sources:
            assert destination in ("./", f"./{name}"), args
            origin = ROOT / name
            if origin.is_dir():
                shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(origin, source / name)
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(wheels)]
        + WHEEL_COMMAND.split("/wheels ")[1].split(),
        cwd=source,
        check=True,
        capture_output=True,
        timeout=180,
    )
    (built,) = wheels.glob("stitch_bridge-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with only the wheel installed in it.

    No registry is reached: the dependencies come from this environment's site-packages through
    a .pth line, which adds the directory without running its own .pth files, so this checkout's
    editable install of `bridge` stays invisible there."""
    home = tmp_path_factory.mktemp("venv") / "env"
    base_python = Path(sys.base_prefix) / "bin" / "python3"
    subprocess.run([str(base_python), "-m", "venv", "--without-pip", str(home)], check=True)
    python = home / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install"]
        + ["--no-deps", "--no-index", "--quiet", str(wheel)]
        + [str(p) for p in wheel.parent.glob("stitch_bridge_client-*.whl")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return home


def in_venv(venv: Path, code: str, cwd: Path) -> str:
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_wheel_holds_every_file_of_the_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    missing = []
    for package in ("bridge", "stitch_emulator", "demo_site"):
        for path in sorted((ROOT / package).rglob("*")):
            # Everything but notes for developers (a package's README) is needed at run time.
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".md":
                name = path.relative_to(ROOT).as_posix()
                if name not in packed:
                    missing.append(name)
    assert missing == [], "package data left out of the wheel (pyproject.toml package-data)"


def test_the_installed_packages_are_the_wheel_s(venv: Path, tmp_path: Path) -> None:
    out = in_venv(
        venv, "import bridge, stitch_emulator, demo_site; print(bridge.__file__)", tmp_path
    )
    assert out.strip().startswith(str(venv)), out
    assert (venv / "bin" / "stitch-bridge").is_file()


def test_every_declared_dependency_is_satisfied(venv: Path, tmp_path: Path) -> None:
    out = in_venv(
        venv,
        "import importlib.metadata as m, re\n"
        "for req in m.requires('stitch-bridge') or []:\n"
        "    if 'extra ==' in req: continue\n"
        "    name = re.split(r'[ <>=!~;\\[]', req, maxsplit=1)[0]\n"
        "    print(name, m.version(name))\n",
        tmp_path,
    )
    names = {line.split()[0].lower() for line in out.splitlines()}
    assert {"starlette", "uvicorn", "sqlalchemy", "asyncpg", "aiosqlite"} <= names


@pytest.fixture
def served(venv: Path, tmp_path: Path) -> Iterator[str]:
    """`stitch-bridge serve` from the fresh virtualenv, configured only by environment."""
    port = free_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BRIDGE_API_KEYS": API_KEY,
        "BRIDGE_SECRET_KEYS": SECRET_KEY,
        "BRIDGE_ALLOWED_ORIGINS": APP_ORIGIN,
        "STITCH_ACCESS_TOKEN": STITCH_TOKEN,
        "STITCH_API_URL": "http://127.0.0.1:9",
        "BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bridge.db'}",
        "BRIDGE_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    (tmp_path / "data").mkdir()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(venv / "bin" / "stitch-bridge"), "serve", "--host", "127.0.0.1"]
            + ["--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            # uvicorn shuts down gracefully, then re-raises the signal as its exit status.
            assert process.wait(timeout=30) in (0, -signal.SIGTERM), log.read_text()
        finally:
            if process.poll() is None:
                process.kill()


def test_the_installed_command_serves_health_readiness_and_the_widget(
    served: str, tmp_path: Path
) -> None:
    # uvicorn[standard]: the installed server parses HTTP with httptools on uvloop, and says so.
    assert "uvicorn, httptools parser, uvloop event loop" in (tmp_path / "serve.log").read_text()
    assert httpx.get(f"{served}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{served}/readyz")
    assert ready.status_code == 200, ready.text
    assert httpx.get(f"{served}/widget.js").status_code == 200
    minted = httpx.post(
        f"{served}/v1/connect-sessions",
        json={"end_user": {"id": "alice"}},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert minted.status_code == 201, minted.text


def test_the_image_is_multi_stage_unprivileged_and_checks_its_health() -> None:
    built = stages()
    assert len(built) >= 2
    final = dict(built[-1])
    assert final["USER"].split(":")[0] not in ("", "0", "root")
    assert "/healthz" in final["HEALTHCHECK"]
    assert final["ENTRYPOINT"].startswith('["stitch-bridge", "serve"')
    assert "--from=build" in final["COPY"]
    # Configured only by environment: nothing secret is baked into the image.
    for word, args in instructions():
        if word in ("ENV", "ARG"):
            assert not re.search(r"(KEY|SECRET|TOKEN|PASSWORD)", args), args


def test_the_build_context_leaves_out_local_and_secret_files() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".env", ".venv", ".git", "*.db", "tests"):
        assert entry in ignored, entry
