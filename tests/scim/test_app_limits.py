"""Slow and hostile clients against a real ``mapper serve`` process on 127.0.0.1, over raw sockets:
partial headers and idle connections are closed within ``--header-timeout``, a body that does not
arrive within ``--body-timeout`` is a 408 and a closed connection, oversized headers are a 431,
connections beyond ``--max-connections`` get 503, and a client that leaves mid-body is a quiet
499 in the audit log, with no traceback.

The bounds are asserted as bounds (the socket's own timeout is several times the configured one),
never as measured durations."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.served import ServedGateway, sqlite_url

TOKEN = "limits-token-7c1d"
AUTH = f"Authorization: Bearer {TOKEN}\r\n"
PATIENCE = 20.0  # seconds a socket waits: far above every configured bound below


@dataclass
class Server:
    """A served gateway (:class:`ServedGateway`) seen over raw sockets."""

    gateway: ServedGateway

    @property
    def port(self) -> int:
        return self.gateway.port

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=PATIENCE)

    def output(self) -> str:
        return self.gateway.log()

    def wait_for(self, text: str) -> str:
        """The log once it holds ``text`` (the server writes it a moment after the response)."""
        return self.gateway.wait_for_log(text)


@contextmanager
def serving(tmp_path: Path, *options: str) -> Iterator[Server]:
    """A real ``mapper serve`` on a fresh SQLite HR database; its output goes to a file, readable
    while it runs."""
    url = sqlite_url(tmp_path / "hr.db")
    with ServedGateway(url, tmp_path / "server.log", *options, token=TOKEN, client="ci") as gateway:
        yield Server(gateway)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp_path = tmp_path_factory.mktemp("limits")
    with serving(
        tmp_path,
        "--header-timeout=1",
        "--body-timeout=1",
        "--max-header-bytes=8192",
        "--keep-alive-timeout=1",
    ) as running:
        yield running


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (raises on PATIENCE). A reset
    (the server closed with our unread bytes in its buffer) is a close too."""
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def request(server: Server, method: str, path: str, body: bytes = b"") -> bytes:
    with server.connect() as sock:
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}Connection: close\r\n"
        if body:
            head += f"Content-Type: application/scim+json\r\nContent-Length: {len(body)}\r\n"
        sock.sendall(head.encode() + b"\r\n" + body)
        return read_all(sock)


def test_a_healthy_request_is_served(server: Server) -> None:
    answer = request(server, "GET", "/scim/v2/Users?count=1")
    assert answer.startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize(
    "sent",
    [b"", b"GET /scim/v2/Users HTTP/1.1\r\n", b"GET /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n"],
    ids=["idle", "request-line", "partial-headers"],
)
def test_partial_headers_are_disconnected_within_the_bound(server: Server, sent: bytes) -> None:
    with server.connect() as sock:
        sock.sendall(sent)
        assert read_all(sock) == b""  # closed by the server, long before PATIENCE


def test_headers_trickled_are_disconnected_within_the_bound(server: Server) -> None:
    """Each byte resets no clock: the deadline runs from the request's first byte, so the server
    closes the connection while the client is still trickling (a deadline moved by each line
    would keep it open as long as the lines come)."""
    with server.connect() as sock:
        sock.sendall(b"GET /scim/v2/Users HTTP/1.1\r\n")
        closed = False
        for _ in range(int(PATIENCE / 0.2)):
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:  # reset: the server closed it
                closed = True
                break
            if select.select([sock], [], [], 0.2)[0]:  # the server closed it (or answered)
                closed = read_all(sock) == b""
                break
        assert closed


def test_a_keep_alive_connection_is_guarded_for_its_next_request(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}\r\n".encode())
        first = b""
        while b'{"status":"ok"}' not in first:
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 ")
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # the next request, never finished
        assert read_all(sock) == b""


@pytest.fixture(scope="module")
def patient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A header deadline far beyond PATIENCE: only the size bound can close a connection soon."""
    options = ("--header-timeout=120", "--max-header-bytes=8192", "--keep-alive-timeout=1")
    with serving(tmp_path_factory.mktemp("patient"), *options) as running:
        yield running


def healthz(sock: socket.socket, answers: int) -> bytes:
    """Read until ``answers`` responses to GET /healthz have arrived."""
    received = b""
    while received.count(b'{"status":"ok"}') < answers:
        chunk = sock.recv(65536)
        assert chunk, received
        received += chunk
    return received


def test_an_idle_keep_alive_connection_is_closed(patient_server: Server) -> None:
    """After a response, a connection that sends nothing is closed by --keep-alive-timeout (the
    header deadline, longer than this test waits, cannot be what closes it)."""
    with patient_server.connect() as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}\r\n".encode())
        assert healthz(sock, 1).startswith(b"HTTP/1.1 200 ")
        assert read_all(sock) == b""


def test_pipelined_requests_are_all_answered(patient_server: Server) -> None:
    """Requests sent back to back before any answer are answered in order, on one connection."""
    with patient_server.connect() as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}\r\n".encode() * 3)
        assert healthz(sock, 3).count(b"HTTP/1.1 200 ") == 3


def test_headers_over_the_bound_are_431(patient_server: Server) -> None:
    """Closed by the bound, not by the deadline (which is longer than this test waits)."""
    with patient_server.connect() as sock:
        sock.sendall(b"GET /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            for _ in range(20):
                sock.sendall(b"X-Padding: " + b"p" * 1000 + b"\r\n")
        except OSError:
            pass  # the server closed the connection while we were still sending
        answer = read_all(sock)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
        if answer:  # the client may see a reset instead, if it was still sending
            head, _, body = answer.partition(b"\r\n\r\n")
            assert b"application/scim+json" in head
            error = json.loads(body)
            assert error["status"] == "431"
            assert error["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]


def test_headers_over_the_bound_sent_at_once_are_431(patient_server: Server) -> None:
    """A whole request whose headers pass the bound, arriving in one read: the bound held only
    for headers still incomplete after a read, so one read of 12 KB (or two of 64 KB) went
    through a bound of 8 KB (a 100 KB header passed the default 64 KiB)."""
    with patient_server.connect() as sock:
        head = f"GET /scim/v2/Users?count=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}Connection: close\r\n"
        sock.sendall(head.encode() + b"X-Padding: " + b"p" * 12_000 + b"\r\n\r\n")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_a_body_that_comes_with_its_headers_is_not_counted_as_headers(patient_server: Server) -> None:
    """Headers just under the bound followed, in the same read, by a body far over it: served."""
    body = json.dumps({"userName": "x" * 20_000}).encode()  # over the bound; refused by the mapping
    padding = b"X-Padding: " + b"p" * (8192 - 400) + b"\r\n"
    with patient_server.connect() as sock:
        head = (
            f"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}Connection: close\r\n"
            f"Content-Type: application/scim+json\r\nContent-Length: {len(body)}\r\n"
        )
        sock.sendall(head.encode() + padding + b"\r\n" + body)
        answer = read_all(sock)
    assert not answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]


def scim_refusal(answer: bytes, status: int) -> dict[str, Any]:
    """The SCIM error body of a raw ``answer`` that must carry ``status`` and close."""
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d " % status), answer[:200]
    assert b"application/scim+json" in head.lower() and b"connection: close" in head.lower()
    error = json.loads(body)
    assert error["status"] == str(status) and error["schemas"] == [
        "urn:ietf:params:scim:api:messages:2.0:Error"
    ]
    return error


@pytest.mark.parametrize(
    "sent",
    [b"NOT A REQUEST\r\n\r\n", b"GET /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n"],
)
def test_a_request_that_is_not_http_is_a_scim_400(server: Server, sent: bytes) -> None:
    """uvicorn's parser refusing a request used to answer text/plain 'Invalid HTTP request received.'"""
    with server.connect() as sock:
        sock.sendall(sent)
        scim_refusal(read_all(sock), 400)
    assert request(server, "GET", "/scim/v2/Users?count=1").startswith(b"HTTP/1.1 200 ")


def test_a_request_target_longer_than_httptools_reads_is_a_scim_414(tmp_path: Path) -> None:
    """Between 64 KiB (where httptools stops parsing a URL) and ``--max-header-bytes``, a long query
    string (an ``attributes=`` list, a long filter) was uvicorn's plain-text 400."""
    with serving(tmp_path, "--max-header-bytes=262144") as roomy:
        answer = request(roomy, "GET", "/scim/v2/Users?attributes=" + ",".join(["userName"] * 9000))
        assert "65535" in scim_refusal(answer, 414)["detail"]
        fits = request(roomy, "GET", "/scim/v2/Users?count=1&attributes=" + ",".join(["userName"] * 6000))
        assert fits.startswith(b"HTTP/1.1 200 "), fits[:200]


@pytest.mark.parametrize("trickle", [False, True], ids=["stalled", "trickled"])
def test_a_body_that_does_not_arrive_in_time_is_408(server: Server, trickle: bool) -> None:
    with server.connect() as sock:
        head = (
            f"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}"
            "Content-Type: application/scim+json\r\nContent-Length: 1000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"userName": ')
        if trickle:  # a byte every 0.2 s until the server answers
            for _ in range(int(PATIENCE / 0.2)):
                if select.select([sock], [], [], 0.2)[0]:
                    break
                sock.sendall(b" ")
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower()
    assert b'"status":"408"' in answer
    log = server.wait_for('"status":408')
    assert "Traceback" not in log and " ERROR " not in log


def test_a_client_that_leaves_mid_body_is_a_quiet_499(server: Server) -> None:
    with server.connect() as sock:
        head = (
            f"PATCH /scim/v2/Users/1 HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}"
            "Content-Type: application/scim+json\r\nContent-Length: 500\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"schemas": [')
        time.sleep(0.2)
    log = server.wait_for('"status":499')
    assert '"method":"PATCH"' in log
    assert "Traceback" not in log and " ERROR " not in log
    assert "ClientDisconnect" not in log
    ok = request(server, "GET", "/scim/v2/Users/1")
    assert ok.startswith(b"HTTP/1.1 200 ")


def test_connections_beyond_the_limit_get_503(tmp_path: Path) -> None:
    with serving(tmp_path, "--max-connections=3", "--header-timeout=30") as server:
        idle = [server.connect() for _ in range(2)]
        try:
            time.sleep(0.3)  # let the server accept them
            answer = request(server, "GET", "/scim/v2/Users?count=1")
            assert answer.startswith(b"HTTP/1.1 503 "), answer[:100]
            head, _, body = answer.partition(b"\r\n\r\n")
            assert b"application/scim+json" in head.lower() and b"retry-after: 1" in head.lower()
            assert json.loads(body)["status"] == "503"
        finally:
            for sock in idle:
                sock.close()
        for _ in range(50):  # the slots free again once those connections are gone
            if request(server, "GET", "/scim/v2/Users?count=1").startswith(b"HTTP/1.1 200 "):
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the limit never freed")


def test_the_rest_of_a_body_answered_early_is_no_header(server: Server) -> None:
    """A body refused by its Content-Length (413) may keep arriving after the answer: those bytes
    belong to the body, and never count against --max-header-bytes (the fuzz once got 431s)."""
    with server.connect() as sock:
        head = (
            f"POST /scim/v2/Users HTTP/1.1\r\nHost: 127.0.0.1\r\n{AUTH}"
            "Content-Type: application/scim+json\r\nContent-Length: 2000000\r\n\r\n"
        )
        sock.sendall(head.encode())
        try:
            for _ in range(30):
                sock.sendall(b" " * 10_000)
        except OSError:
            pass  # closed after the answer
        answer = read_all(sock)  # the body never completes: closed by the deadline
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b" 431 " not in answer
