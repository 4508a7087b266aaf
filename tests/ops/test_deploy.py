"""The deployment files, run with the commands they hold.

The image itself is not built in the test suite: that needs root, a container engine and minutes
(``deploy/build-offline.sh`` builds it without a registry and checks it; docs/deployment.md, "What
was verified"). What the image runs is tested instead: its entrypoint script serves the HR example
and answers its own health check (over HTTP and HTTPS), the Dockerfile wires them as this test
does, and the systemd unit's ``ExecStart`` runs as written (paths moved into a scratch directory),
after ``systemd-analyze verify`` accepts the unit.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.served import HR, ROOT, SAMPLE_USERS, ServedGateway, free_port

ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
UNIT = ROOT / "deploy" / "mapper.service"
DOCKERFILE = ROOT / "Dockerfile"
TOKEN = "deploy-token-3f9a"
BIN = Path(sys.executable).parent  # the virtual environment's bin, where `mapper` is


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPPER_")}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        HR_DATABASE_URL=f"sqlite:///{tmp_path / 'hr.db'}",
        MAPPER_TOKEN=f"deploy:{TOKEN}",
        MAPPER_MAPPING=str(HR / "hr.map"),
        MAPPER_HOST="127.0.0.1",
    )
    env.update(extra)
    return env


def healthcheck(env: dict[str, str]) -> int:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), "healthcheck"], env=env, capture_output=True, timeout=30, check=False
    ).returncode


@contextmanager
def running(
    argv: list[str], env: dict[str, str], log: Path, port: int, scheme: str = "http", verify: Any = True
) -> Iterator[None]:
    """``argv`` (which serves on ``port``) in the background until ``/readyz`` answers 200; stopped
    with SIGTERM, after which it must have shut down cleanly."""
    url = env["HR_DATABASE_URL"]
    gateway = ServedGateway(
        url, log, environ=env, whole_environ=True, command=argv, port=port, scheme=scheme, verify=verify
    )
    gateway.start()
    try:
        yield
    finally:
        code = gateway.stop(within=30)
    # a clean shutdown: uvicorn re-raises the SIGTERM it handled (systemd counts it as success)
    assert code in (0, -signal.SIGTERM), gateway.log()[-3000:]


def certificate(tmp_path: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is needed to make a test certificate"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=idm.example.com",
        ]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_the_entrypoint_serves_the_hr_example_and_checks_its_health(tmp_path: Path) -> None:
    port = free_port()
    env = environment(tmp_path, MAPPER_PORT=str(port), MAPPER_LOG_LEVEL="warning")
    argv = [
        "sh",
        str(ENTRYPOINT),
        "serve",
        f"--create-schema={HR / 'schema.sql'}",
        f"--seed={HR / 'sample-data.sql'}",
    ]
    assert healthcheck(env) == 1  # nothing listens yet
    with running(argv, env, tmp_path / "serve.log", port):
        assert healthcheck(env) == 0
        users = httpx.get(
            f"http://127.0.0.1:{port}/scim/v2/Users",
            params={"count": 0},
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
        )
        assert users.json()["totalResults"] == SAMPLE_USERS
    assert healthcheck(env) == 1  # stopped


def test_the_entrypoint_serves_https_with_mounted_files(tmp_path: Path) -> None:
    cert, key = certificate(tmp_path)
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# mounted token file\nfile-client:{TOKEN}-file\n")
    port = free_port()
    env = environment(
        tmp_path,
        MAPPER_PORT=str(port),
        MAPPER_CERTFILE=str(cert),
        MAPPER_KEYFILE=str(key),
        MAPPER_TOKEN_FILE=str(tokens),
    )
    argv = ["sh", str(ENTRYPOINT), f"--create-schema={HR / 'schema.sql'}", f"--seed={HR / 'sample-data.sql'}"]
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    with running(argv, env, tmp_path / "serve.log", port, "https", unverified):
        assert healthcheck(env) == 0  # over HTTPS, the certificate naming another host
        answer = httpx.get(
            f"https://127.0.0.1:{port}/scim/v2/Users/1",
            headers={"Authorization": f"Bearer {TOKEN}-file"},
            timeout=10,
            verify=unverified,
        )
        assert answer.status_code == 200


def test_the_entrypoint_gives_container_defaults_and_passes_the_rest_on(tmp_path: Path) -> None:
    """A ``mapper`` that prints its arguments and its MAPPER_ variables stands in for the real one."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "mapper").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\nenv | grep ^MAPPER_ | sort\n')
    (fake / "mapper").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPPER_")}
    env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"

    def printed(*args: str, **variables: str) -> list[str]:
        return subprocess.run(
            ["sh", str(ENTRYPOINT), *args],
            env={**env, **variables},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()

    assert printed() == [
        "serve",
        "MAPPER_HOST=0.0.0.0",
        "MAPPER_MAPPING=/etc/mapper/mapping.map",
        "MAPPER_PORT=8080",
    ]
    given = printed("serve", "--max-results", "500", "--dialect", "my sql", MAPPER_PORT="9000")
    assert given[:5] == ["serve", "--max-results", "500", "--dialect", "my sql"]  # spaces kept
    assert "MAPPER_PORT=9000" in given  # the operator's variable, not the default
    assert printed("--strict")[:2] == ["serve", "--strict"]  # options alone mean serve
    assert printed("mapper", "lint", "x.map")[:2] == ["lint", "x.map"]  # any other command as given


def test_the_health_check_asks_the_address_served_on(tmp_path: Path) -> None:
    """A ``python3`` that prints the URL it is given stands in for the real one."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "python3").write_text('#!/bin/sh\nshift 2\nprintf "%s\\n" "$@"\n')
    (fake / "python3").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPPER_")}
    env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"

    def asked(**variables: str) -> str:
        run = subprocess.run(
            ["sh", str(ENTRYPOINT), "healthcheck"],
            env={**env, **variables},
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip()

    assert asked() == "http://127.0.0.1:8080/readyz"
    assert asked(MAPPER_HOST="::", MAPPER_PORT="9000") == "http://127.0.0.1:9000/readyz"
    assert asked(MAPPER_HOST="10.0.0.5", MAPPER_CERTFILE="c.pem") == "https://10.0.0.5:8080/readyz"
    assert asked(MAPPER_HOST="fd00::5") == "http://[fd00::5]:8080/readyz"
    assert asked(MAPPER_HOST="[fd00::5]") == "http://[fd00::5]:8080/readyz"


def test_the_entrypoint_warns_of_options_the_health_check_cannot_see(tmp_path: Path) -> None:
    """The health check runs in its own process with the image's variables: ``serve --port 9000``
    serves, but the check asks port 8080 and the container turns unhealthy (seen with podman)."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "mapper").write_text("#!/bin/sh\nexit 0\n")
    (fake / "mapper").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPPER_")}
    env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"

    def warned(*args: str) -> str:
        run = subprocess.run(
            ["sh", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, check=True
        )
        return run.stderr

    assert "set MAPPER_PORT instead" in warned("serve", "--port", "9000")
    assert "set MAPPER_CERTFILE instead" in warned("--certfile=/etc/mapper/tls/cert.pem")
    assert "set MAPPER_HOST instead" in warned("serve", "--host", "10.0.0.5")
    assert warned("serve", "--max-results", "500", "--keyfile", "k.pem") == ""
    assert warned("mapper", "serve", "--port", "9000") == ""  # any other command is left alone


def test_the_dockerfile_runs_the_entrypoint_as_an_unprivileged_user() -> None:
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.MULTILINE)
    assert len(stages) == 2 and stages[0][1] == "build"  # multi-stage: the last has no compilers
    final = text[text.rindex("\nFROM ") :]
    user = re.search(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert user is not None and not user.group(1).startswith(("root", "0"))
    assert "HEALTHCHECK" in final and '["mapper-entrypoint", "healthcheck"]' in final
    assert 'ENTRYPOINT ["mapper-entrypoint"]' in final
    assert "COPY --chmod=0755 deploy/entrypoint.sh /usr/local/bin/mapper-entrypoint" in final
    for source in re.findall(r"^COPY\s+(?:--\S+\s+)*(\S+)\s", text, re.MULTILINE):
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
    ignored = (ROOT / ".dockerignore").read_text()
    for source in ("pyproject.toml", "README.md", "LICENSE", "grammar/", "mapper/", "deploy/entrypoint.sh"):
        assert f"!{source}" in ignored


def unit_exec_start() -> list[str]:
    """The unit's ExecStart, its continuation lines joined, split as systemd does (no quoting used)."""
    text = UNIT.read_text().replace("\\\n", " ")
    (line,) = [line for line in text.splitlines() if line.startswith("ExecStart=")]
    return line.removeprefix("ExecStart=").split()


def test_the_systemd_unit_verifies_and_its_command_serves(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    (etc / "tls").mkdir(parents=True)
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    cert, key = certificate(tmp_path)
    shutil.copy(cert, etc / "tls" / "cert.pem")
    shutil.copy(key, credentials / "tls.key")
    (credentials / "tokens").write_text(f"entra:{TOKEN}\n")
    shutil.copy(HR / "hr.map", etc / "mapping.map")
    port = free_port()
    # the same command, with the unit's paths moved into the scratch directory
    argv = [
        arg.replace("/opt/scim-sql-mapper/bin/mapper", str(BIN / "mapper"))
        .replace("/etc/scim-sql-mapper", str(etc))
        .replace("${CREDENTIALS_DIRECTORY}", str(credentials))
        .replace("8443", str(port))
        for arg in unit_exec_start()
    ]
    assert argv[1] == "serve" and "--token-file" in argv and "--certfile" in argv
    analyze = shutil.which("systemd-analyze")
    if analyze is not None:  # where systemd is installed; the command below runs either way
        unit = tmp_path / "scim-sql-mapper.service"
        unit.write_text(UNIT.read_text().replace("/opt/scim-sql-mapper/bin/mapper", str(BIN / "mapper")))
        verified = subprocess.run(
            [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
        )
        problems = [
            line
            for line in (verified.stdout + verified.stderr).splitlines()
            if line.strip() and "/etc/scim-sql-mapper" not in line  # files that only exist on a real host
        ]
        assert not problems, problems
        security = subprocess.run(
            [analyze, "security", "--offline=yes", str(unit)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        exposure = re.search(r"Overall exposure level for \S+: ([0-9.]+)", security.stdout)
        assert exposure is not None, security.stdout + security.stderr
        assert float(exposure.group(1)) <= 2.0, security.stdout  # systemd's scale: 0 best, 10 worst
    env = environment(tmp_path)
    env.pop("MAPPER_TOKEN")
    from mapper.runtime.database import bootstrap_sqlite

    bootstrap_sqlite(env["HR_DATABASE_URL"], [HR / "schema.sql", HR / "sample-data.sql"])
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    with running(argv, env, tmp_path / "unit.log", port, "https", unverified):
        answer = httpx.get(
            f"https://127.0.0.1:{port}/scim/v2/Users/1",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=10,
            verify=unverified,
        )
        assert answer.status_code == 200


def test_the_systemd_unit_does_not_restart_what_needs_a_person() -> None:
    """docs/gateway.md: restart on 3 and on signals; 1 (mapping errors), 2 (usage) and 5 (a
    database refusing the configuration: a wrong password, no such database) need a change of
    configuration, and restarting on 5 every few seconds would only repeat a refused login."""
    from mapper.cli import EXIT_DATABASE, EXIT_ERRORS, EXIT_USAGE

    lines = [line for line in UNIT.read_text().splitlines() if line.startswith("RestartPreventExitStatus=")]
    assert len(lines) == 1
    prevented = {int(code) for code in lines[0].partition("=")[2].split()}
    assert prevented == {EXIT_ERRORS, EXIT_USAGE, EXIT_DATABASE}
    gateway = (ROOT / "docs" / "gateway.md").read_text(encoding="utf-8")
    assert f"`RestartPreventExitStatus={' '.join(map(str, sorted(prevented)))}`" in gateway


def test_the_compose_file_mounts_what_exists_and_sets_only_real_options() -> None:
    import yaml

    from mapper.scim.settings import env_name, options

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "mapper"}
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"compose.yaml mounts {source}, which does not exist"
    mapper = services["mapper"]
    known = {env_name(name) for name in options()}
    for variable in mapper["environment"]:
        assert variable in known or variable == "HR_DATABASE_URL", f"{variable} is no mapper serve option"
    assert mapper["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert mapper["read_only"] is True and mapper["cap_drop"] == ["ALL"]
    # the HR example's database, created by PostgreSQL's init scripts in this order
    inits = [v for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v]
    assert [v.split(":")[1].rsplit("/", 1)[1] for v in inits] == ["01-schema.sql", "02-sample-data.sql"]
