"""``mapper serve``: argument parsing, refusals with their exit codes, SQLite bootstrap, and one
real server process answering over TCP."""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import socket
import ssl
import subprocess
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mapper.cli import EXIT_ERRORS, EXIT_USAGE, serve
from mapper.pipeline import load
from mapper.scim.server import bootstrap
from mapper.scim.settings import Settings, SettingsError, add_serve_arguments, settings_from_args
from tests.support.scim import HR_MAP, new_user, scim_client
from tests.support.served import ServedGateway, sqlite_url

HR = HR_MAP.parent
ROOT = HR.parent.parent


def parse(*argv: str, environ: dict[str, str] | None = None) -> Settings:
    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return settings_from_args(parser.parse_args(list(argv)), environ or {})


def test_arguments_and_defaults() -> None:
    options = parse("hr.map", environ={"MAPPER_TOKEN": "entra:a, okta:b ,"})
    assert options.mapping == ("hr.map",)
    assert (options.host, options.port, options.base_path) == ("127.0.0.1", 8080, "/scim/v2")
    assert options.tokens == ("entra:a", "okta:b")
    assert options.max_body_bytes == 1024 * 1024
    assert not options.insecure_no_auth

    options = parse(
        "hr.map",
        "--port=9000",
        "--create-schema=a.sql",
        "--seed=b.sql",
        "--seed=c.sql",
        "--dialect=postgres",
        "--insecure-no-auth",
        "--delta-interval=5",
    )
    assert options.port == 9000
    assert options.create_schema == ("a.sql",) and options.seed == ("b.sql", "c.sql")
    assert options.dialect == "postgres" and options.insecure_no_auth and options.delta_interval == 5


def test_base_path_is_normalised() -> None:
    assert Settings(base_path="scim/v2/").base_path == "/scim/v2"
    assert Settings(base_path="/").base_path == ""


def test_refuses_to_start_without_a_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(Settings(mapping=str(HR_MAP), environ={})) == EXIT_USAGE
    assert "MAPPER_TOKEN" in capsys.readouterr().err


def test_refuses_an_unreadable_token_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options = Settings(mapping=str(HR_MAP), token_file=str(tmp_path / "absent"), environ={})
    assert serve(options) == EXIT_USAGE
    assert "token file" in capsys.readouterr().err


def test_refuses_half_configured_tls(capsys: pytest.CaptureFixture[str]) -> None:
    options = Settings(mapping=str(HR_MAP), tokens=("t",), certfile="cert.pem", environ={})
    assert serve(options) == EXIT_USAGE
    assert "--keyfile" in capsys.readouterr().err


def test_mapping_with_errors_is_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.map"
    broken.write_text("object User from nowhere {\n", encoding="utf-8")
    assert serve(Settings(mapping=str(broken), tokens=("t",), environ={})) == EXIT_ERRORS
    assert "has errors" in capsys.readouterr().err


def test_unreadable_mapping_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    absent = tmp_path / "absent.map"
    assert serve(Settings(mapping=str(absent), tokens=("t",), environ={})) == EXIT_USAGE
    assert f"mapper serve: {absent}: no such file or directory" in capsys.readouterr().err


def test_bootstrap_creates_the_sqlite_database_once(tmp_path: Path) -> None:
    plan = load(str(HR_MAP))
    db = tmp_path / "hr.db"
    environ = {"HR_DATABASE_URL": f"sqlite:///{db}"}
    files = [str(HR / "schema.sql"), str(HR / "sample-data.sql")]
    assert bootstrap(plan, files, environ) is None
    assert db.exists()
    assert bootstrap(plan, files, environ) is None  # exists: left alone
    assert "no such file" in (bootstrap(plan, [str(tmp_path / "nope.sql")], environ) or "")


@contextmanager
def served(
    tmp_path: Path, token: str, *extra: str, scheme: str = "http", verify: Any = True, log: str = "server.log"
) -> Iterator[str]:
    """A real ``mapper serve`` process on the SQLite file ``tmp_path / "hr.db"`` (created with
    sample data when absent); yields its root URL. Its output is in ``tmp_path / log``."""
    url = sqlite_url(tmp_path / "hr.db")
    options = {"token": token, "client": "ci", "scheme": scheme, "verify": verify}
    with ServedGateway(url, tmp_path / log, *extra, **options) as gateway:
        yield gateway.root


def test_a_real_server_process(tmp_path: Path) -> None:
    token = "process-token-4f9a2b"
    with served(tmp_path, token) as base:
        auth = {"Authorization": f"Bearer {token}"}
        users = httpx.get(f"{base}/scim/v2/Users", params={"count": 1}, headers=auth, timeout=5)
        assert users.status_code == 200
        assert users.json()["totalResults"] == 20
        assert "server" not in users.headers
        assert httpx.get(f"{base}/scim/v2/Users", timeout=5).status_code == 401
        created = httpx.post(f"{base}/scim/v2/Users", json={"userName": "over.tcp"}, headers=auth, timeout=5)
        assert created.status_code == 201
    log = (tmp_path / "server.log").read_text()
    assert "Application startup complete" in log
    assert token not in log
    assert '"client":"ci"' in log and '"method":"POST"' in log  # the audit line
    assert "GET /scim/v2/Users" not in log  # no access log


def test_two_processes_on_one_database(tmp_path: Path) -> None:
    """Each process (a uvicorn worker, or a second gateway) has its own cache: a write through one
    is read through the other by reading through on the miss, and a PATCH through a process whose
    cache is behind re-reads the object instead of overwriting the other's change."""
    token = "two-process-token-1c4e"
    auth = {"Authorization": f"Bearer {token}"}

    def patch(base: str, id_: str, path: str, value: str) -> httpx.Response:
        operations = [{"op": "replace", "path": path, "value": value}]
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}
        return httpx.patch(f"{base}/scim/v2/Users/{id_}", json=body, headers=auth, timeout=5)

    with served(tmp_path, token, log="a.log") as a, served(tmp_path, token, log="b.log") as b:
        created = httpx.post(f"{a}/scim/v2/Users", json={"userName": "two.workers"}, headers=auth, timeout=5)
        assert created.status_code == 201, created.text
        id_ = created.json()["id"]
        by_id = httpx.get(f"{b}/scim/v2/Users/{id_}", headers=auth, timeout=5)
        assert by_id.status_code == 200 and by_id.json()["userName"] == "two.workers"
        found = httpx.get(
            f"{b}/scim/v2/Users", params={"filter": 'userName eq "two.workers"'}, headers=auth, timeout=5
        )
        assert [u["id"] for u in found.json()["Resources"]] == [id_]
        assert patch(b, id_, "title", "Written through B").status_code == 200
        # A's cache still holds the version it created; its PATCH must not undo B's title
        assert patch(a, id_, "nickName", "Written through A").status_code == 200
        final = httpx.get(f"{a}/scim/v2/Users/{id_}", headers=auth, timeout=5).json()
        assert (final["title"], final["nickName"]) == ("Written through B", "Written through A")


def test_serves_https_with_certfile_and_keyfile(tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed to make a test certificate")
        pytest.skip("openssl is not installed: cannot make a test certificate")
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
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    token = "tls-token-7d1e"
    verify = ssl.create_default_context(cafile=str(cert))
    with served(
        tmp_path, token, f"--certfile={cert}", f"--keyfile={key}", scheme="https", verify=verify
    ) as base:
        auth = {"Authorization": f"Bearer {token}"}
        users = httpx.get(
            f"{base}/scim/v2/Users", params={"count": 1}, headers=auth, timeout=5, verify=verify
        )
        assert users.status_code == 200 and users.json()["totalResults"] == 20
        with pytest.raises(httpx.TransportError):  # plain HTTP on the TLS port is refused
            httpx.get(base.replace("https:", "http:") + "/readyz", timeout=5)


def test_bootstrap_reports_a_broken_schema_file(tmp_path: Path) -> None:
    plan = load(str(HR_MAP))
    bad = tmp_path / "bad.sql"
    bad.write_text("CREATE TABLE (;", encoding="utf-8")
    message = bootstrap(plan, [str(bad)], {"HR_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert message and "source hr" in message
    assert not (tmp_path / "x.db").exists()
    wrong = bootstrap(plan, [str(bad)], {"HR_DATABASE_URL": "postgresql://u:secret@db/x"})
    assert wrong and "secret" not in wrong


def test_a_source_without_url_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "nourl.map"
    text = HR_MAP.read_text(encoding="utf-8").replace(
        'url env("HR_DATABASE_URL", "sqlite:///hr.db")', 'url env("NO_SUCH_URL_VAR")'
    )
    mapping.write_text(text, encoding="utf-8")
    assert serve(Settings(mapping=str(mapping), tokens=("t",), environ={})) == EXIT_USAGE
    assert "NO_SUCH_URL_VAR" in capsys.readouterr().err


def test_coherence_and_workers_options(capsys: pytest.CaptureFixture[str]) -> None:
    options = parse("hr.map")
    assert (options.coherence, options.workers) == ("auto", 1)
    options = parse("hr.map", "--coherence=changelog", "--workers=4")
    assert (options.coherence, options.workers) == ("changelog", 4)
    with pytest.raises(SettingsError):
        parse("hr.map", "--workers=0")
    assert Settings().coherence == "off"  # an app built in-process listens to nobody unless told
    # LISTEN/NOTIFY is PostgreSQL's: on SQLite that is a usage error before anything starts
    environ = {"HR_DATABASE_URL": "sqlite:///absent.db"}
    options = Settings(mapping=str(HR_MAP), tokens=("t",), coherence="notify", environ=environ)
    assert serve(options) == EXIT_USAGE
    assert "--coherence notify needs PostgreSQL" in capsys.readouterr().err


def test_a_missing_mapping_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(Settings(mapping=str(tmp_path / "absent.map"), tokens=("t",), environ={})) == EXIT_USAGE
    assert "absent.map" in capsys.readouterr().err


def _certificate(openssl: str, folder: Path, name: str, *extra: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}-cert.pem", folder / f"{name}-key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-days", "1", "-subj", "/CN=127.0.0.1"]
        + [*extra, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_tls_files_that_cannot_serve_are_exit_2_before_the_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing, foreign or encrypted key is refused with one line, before any listen or import
    (uvicorn found it only after both, with a traceback, and never asks a terminal for a password)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI") == "true":
            pytest.fail("openssl is needed to make a test certificate")
        pytest.skip("openssl is not installed: cannot make a test certificate")
    cert, key = _certificate(openssl, tmp_path, "a", "-nodes")
    _, other_key = _certificate(openssl, tmp_path, "b", "-nodes")
    _, locked_key = _certificate(openssl, tmp_path, "c", "-passout", "pass:secret-pass-42")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n", encoding="utf-8")
    cases = {
        "absent": (str(tmp_path / "absent.pem"), str(key), "cannot read"),
        "foreign key": (str(cert), str(other_key), "not a PEM certificate and its matching"),
        "not PEM": (str(garbage), str(key), "not a PEM certificate"),
        "encrypted": (str(cert), str(locked_key), "is encrypted"),
    }
    for name, (certfile, keyfile, said) in cases.items():
        # the port is taken: a TLS check that came after the listen would answer 4, not 2
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            options = Settings(
                mapping=str(HR_MAP),
                tokens=("t",),
                certfile=certfile,
                keyfile=keyfile,
                port=busy.getsockname()[1],
                environ={"HR_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"},
            )
            assert serve(options) == EXIT_USAGE, name
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err and "secret-pass" not in err, (name, err)
    assert not (tmp_path / "none.db").exists()


@pytest.mark.anyio
@pytest.mark.parametrize("freeze", [False, True])
async def test_a_served_cache_is_frozen_out_of_the_collectors_view(hr_sqlite: Any, freeze: bool) -> None:
    """``mapper serve`` sets ``freeze_cache``: after the full import every live object, the cache
    included, sits in the collector's permanent generation, so no collection walks it again. An
    app built in-process leaves the process's collector alone."""
    gc.unfreeze()
    try:
        async with scim_client(hr_sqlite, freeze_cache=freeze) as client:
            assert (await client.get("/Users/1")).status_code == 200
            assert (gc.get_freeze_count() > 0) is freeze
    finally:
        gc.unfreeze()


class _Cycle:
    """A reference cycle: garbage only the cyclic collector frees."""

    def __init__(self) -> None:
        self.me = self


@pytest.mark.anyio
@pytest.mark.parametrize("freeze", [False, True])
async def test_a_served_gateway_freezes_what_writes_add_at_each_delta(hr_sqlite: Any, freeze: bool) -> None:
    """``mapper serve`` (``freeze_cache``) also takes what the writes added since the import out of
    the collector's view at each delta import (a POSTed user's record), or every full collection
    walked all of it again; garbage at that moment, a reference cycle included, is collected
    first, not frozen for good. An app built in-process leaves the process's collector alone."""
    gc.unfreeze()
    try:
        async with scim_client(hr_sqlite, freeze_cache=freeze) as client:
            created = await client.post("/Users", json=new_user("frozen.later"))
            assert created.status_code == 201
            store = client.state["gateway"].stores["User"]  # type: ignore[attr-defined]
            record = store.cache.get(int(created.json()["id"]))
            assert any(o is record for o in gc.get_objects())  # the collector walks it
            gc.disable()  # no collection of its own frees the cycle before the delta's
            cycle = _Cycle()
            gone = weakref.ref(cycle)
            del cycle
            await client.state["gateway"].sync_delta()  # type: ignore[attr-defined]
            gc.enable()
            assert store.cache.get(int(created.json()["id"])) is record
            assert any(o is record for o in gc.get_objects()) is not freeze
            if freeze:
                assert gone() is None  # collected before the freeze
    finally:
        gc.enable()
        gc.unfreeze()
