"""Real components for the LRS tests: a ralph LRS, a fault-injecting proxy, a tiny IdP.

* :func:`start_ralph` runs ``ralph runserver`` (PyPI ``ralph-malph[cli,lrs]``, installed in
  its own virtualenv ``<repo>/.venv-ralph``; override the executable with the environment
  variable ``TALENTML_RALPH``) with its filesystem backend on a free 127.0.0.1 port, a
  temporary data directory and credentials made by ``ralph auth``.
* :class:`FaultProxy` sits between a client and ralph and injects, by a deterministic
  schedule keyed on the request number, 429 with ``Retry-After``, 503, connections dropped
  before forwarding and connections dropped in the middle of the response (after ralph
  has processed the request).
* :class:`MiniOIDCProvider` is an OpenID provider reduced to what ralph's OIDC auth reads
  (discovery document, JWKS with an HS256 key) plus a client-credentials token endpoint,
  so bearer tokens are checked by ralph itself.
* :func:`make_statements` generates realistic, valid xAPI statements (account actors, ADL
  verbs, timestamps spread over days) without the dataset simulator.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import copy
import dataclasses
import hashlib
import hmac
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
DATASIM_DIR = SHARED_DATA / "xapi" / "datasim"
RALPH_ENV_VAR = "TALENTML_RALPH"
RALPH_INSTALL_HINT = (
    "cd <repo root> && uv venv -p 3.11 .venv-ralph && "
    'uv pip install -p .venv-ralph/bin/python "ralph-malph[cli,lrs]" requests'
)
HOME_PAGE = "https://hr.example.com"

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS = {
    "registered": 0.05,
    "launched": 0.14,
    "initialized": 0.06,
    "experienced": 0.25,
    "progressed": 0.12,
    "attempted": 0.08,
    "answered": 0.08,
    "completed": 0.12,
    "passed": 0.05,
    "failed": 0.03,
    "terminated": 0.02,
}
COURSES = [
    "negotiation-101",
    "python-for-analysts",
    "coaching-conversations",
    "data-privacy-essentials",
    "inclusive-hiring",
    "sql-fundamentals",
    "leading-remote-teams",
    "giving-feedback",
    "financial-acumen",
    "project-management-basics",
    "customer-discovery",
    "cloud-security-awareness",
]


# ---------------------------------------------------------------------------- helpers


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def local_session() -> requests.Session:
    """A requests session that ignores proxy settings (everything here is on 127.0.0.1)."""
    session = requests.Session()
    session.trust_env = False
    return session


def ralph_executable() -> Path:
    """The ralph executable: ``$TALENTML_RALPH`` or ``<repo>/.venv-ralph/bin/ralph``.

    Raises
    ------
    RuntimeError
        When it does not exist (the LRS tests fail rather than skip).
    """
    path = Path(os.environ.get(RALPH_ENV_VAR) or REPO_ROOT / ".venv-ralph" / "bin" / "ralph")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise RuntimeError(
            f"the ralph LRS executable is missing: {path} does not exist or is not "
            f"executable. The LRS tests need it; create it with: {RALPH_INSTALL_HINT} "
            f"(or point ${RALPH_ENV_VAR} at a ralph executable)"
        )
    return path


# ---------------------------------------------------------------------------- ralph


@dataclasses.dataclass(frozen=True)
class RalphUser:
    """A ralph basic-auth user; ``target`` is its own sub-directory of the fs backend."""

    username: str
    target: str | None = None

    @property
    def mbox(self) -> str:
        return f"mailto:{self.username}@lrs.example.org"


@dataclasses.dataclass
class RalphServer:
    """A running ralph LRS (see :func:`start_ralph`)."""

    process: subprocess.Popen[bytes]
    port: int
    workdir: Path
    password: str
    users: dict[str, RalphUser]
    log_path: Path
    _stopped: bool = dataclasses.field(default=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        """The xAPI endpoint (statements live at ``<endpoint>statements``)."""
        return f"{self.base_url}/xAPI/"

    def credentials(self, username: str) -> tuple[str, str]:
        if username not in self.users:
            raise KeyError(f"no ralph user {username!r}; users: {sorted(self.users)}")
        return username, self.password

    def store_file(self, username: str) -> Path:
        """The JSON-lines file where the fs backend keeps this user's statements."""
        target = self.users[username].target
        base = self.workdir / "fs"
        return (base / target if target else base) / "fs_lrs.jsonl"

    def log_tail(self, n_chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop ralph and its children (uvicorn's reloader and worker); idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        # the worker is in the same process group; make sure nothing of it survives
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


def _ralph_env(workdir: Path, oidc_issuer: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("RALPH_") and k.lower() not in PROXY_VARIABLES
    }
    env.update(
        {
            "RALPH_APP_DIR": str(workdir / "app"),
            "RALPH_AUTH_FILE": str(workdir / "auth.json"),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(workdir / "fs"),
            "RALPH_BACKENDS__DATA__FS__DEFAULT_DIRECTORY_PATH": str(workdir / "fs"),
        }
    )
    if oidc_issuer:
        env["RALPH_RUNSERVER_AUTH_BACKENDS"] = "basic,oidc"
        env["RALPH_RUNSERVER_AUTH_OIDC_ISSUER_URI"] = oidc_issuer
    return env


def _wait_until_up(server: RalphServer, timeout: float) -> bool:
    """Poll ralph's heartbeat until it answers 200, the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    with local_session() as probe:
        while time.monotonic() < deadline and server.process.poll() is None:
            try:
                if probe.get(f"{server.base_url}/__heartbeat__", timeout=2).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
    return False


def start_ralph(
    workdir: Path,
    *,
    users: list[RalphUser],
    password: str = "correct-horse-battery",
    oidc_issuer: str | None = None,
    startup_timeout: float = 90.0,
) -> RalphServer:
    """Start ``ralph runserver -b fs -h 127.0.0.1 -p PORT`` and wait until it answers.

    The first user is created with ``ralph auth ... -w`` (ralph's own CLI, which bcrypt-
    hashes the password into ``auth.json``); the others are copies of that entry with
    their own username, agent and ``target`` (the same password, so the same hash
    verifies). Each target is a sub-directory of the fs backend: ralph's fs backend
    accepts a single write per target file (see ``docs/lrs.md``), so tests that write
    get their own user. The server and ``ralph auth`` start concurrently (ralph reads the
    auth file at the first authenticated request); both take a few seconds to import.

    Parameters
    ----------
    workdir : Path
        An empty temporary directory; holds ``auth.json``, ``fs/``, ``app/`` and the log.
    users : list of RalphUser
        The basic-auth users to create (at least one).
    password : str
        The password of every user.
    oidc_issuer : str, optional
        Base URL of an OpenID provider; enables ralph's OIDC (bearer) auth besides basic.
    startup_timeout : float
        Seconds to wait for ralph to answer.
    """
    if not users:
        raise ValueError("start_ralph needs at least one user")
    exe = ralph_executable()
    workdir.mkdir(parents=True, exist_ok=True)
    for user in users:
        (workdir / "fs" / (user.target or "")).mkdir(parents=True, exist_ok=True)
    env = _ralph_env(workdir, oidc_issuer)
    log_path = workdir / "ralph.log"
    first = users[0]
    auth_cmd = [str(exe), "auth", "-u", first.username, "-p", password, "-s", "all"]
    auth_cmd += ["-M", first.mbox, "-w"]
    if first.target:
        auth_cmd += ["-t", first.target]
    auth_proc = subprocess.Popen(
        auth_cmd,
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    last_error: str = ""
    for _ in range(3):  # a free port can be taken between picking and binding it
        port = free_port()
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [str(exe), "runserver", "-b", "fs", "-h", "127.0.0.1", "-p", str(port)],
                cwd=workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = RalphServer(
            process=process,
            port=port,
            workdir=workdir,
            password=password,
            users={u.username: u for u in users},
            log_path=log_path,
        )
        atexit.register(server.stop)
        if not _wait_until_up(server, startup_timeout):
            last_error = server.log_tail()
            server.stop()
            if "address already in use" in last_error.lower():
                continue
            auth_proc.kill()
            raise RuntimeError(
                f"ralph did not answer on 127.0.0.1:{port} within {startup_timeout:g} s; "
                f"log ({log_path}):\n{last_error}"
            )
        break
    else:
        auth_proc.kill()
        raise RuntimeError(f"ralph could not bind a port after 3 tries:\n{last_error}")

    out, _ = auth_proc.communicate(timeout=startup_timeout)
    if auth_proc.returncode != 0:
        server.stop()
        raise RuntimeError(f"`ralph auth` failed ({auth_proc.returncode}):\n{out.decode()[-3000:]}")
    auth_file = workdir / "auth.json"
    entries = json.loads(auth_file.read_text())
    for user in users[1:]:
        entry = copy.deepcopy(entries[0])
        entry["username"] = user.username
        entry["agent"] = {"mbox": user.mbox, "objectType": "Agent"}
        entry.pop("target", None)
        if user.target:
            entry["target"] = user.target
        entries.append(entry)
    auth_file.write_text(json.dumps(entries, indent=2))
    return server


# ---------------------------------------------------------------------------- fault proxy


@dataclasses.dataclass(frozen=True)
class Fault:
    """One injected fault.

    ``kind`` is ``"status"`` (answer ``status`` with ``retry_after`` without forwarding),
    ``"drop"`` (close the connection without an answer, nothing forwarded) or
    ``"drop_mid_response"`` (forward, so ralph processes the request, then send the
    headers and half of ralph's body and close the connection).
    """

    kind: str
    status: int = 0
    retry_after: str | None = None

    @classmethod
    def too_many_requests(cls, retry_after: str | None = "1") -> Fault:
        return cls("status", 429, retry_after)

    @classmethod
    def unavailable(cls, retry_after: str | None = None) -> Fault:
        return cls("status", 503, retry_after)

    @classmethod
    def drop(cls) -> Fault:
        return cls("drop")

    @classmethod
    def drop_mid_response(cls) -> Fault:
        return cls("drop_mid_response")


@dataclasses.dataclass
class ProxyRecord:
    """What the proxy saw for one request."""

    number: int
    method: str
    path: str
    headers: dict[str, str]
    fault: Fault | None
    upstream_status: int | None

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.path).query)


_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "host",
    "date",
    "server",
}


class FaultProxy:
    """A threaded HTTP proxy on 127.0.0.1 that injects faults by a deterministic schedule.

    Parameters
    ----------
    upstream : str
        Base URL of the real server, e.g. ``"http://127.0.0.1:8100"``.
    faults : mapping of int to Fault, or callable
        Request number (1-based, every request the proxy receives) -> fault; or a
        function ``(number, method, path) -> Fault | None``.
    more_links : {"pass", "absolute", "foreign"}
        Leave ralph's relative ``more`` links alone, make them absolute URLs through the
        proxy, or absolute URLs to another origin (``localhost`` instead of 127.0.0.1).
    extra_headers : mapping, optional
        Headers added to every forwarded response.
    """

    def __init__(
        self,
        upstream: str,
        *,
        faults: Mapping[int, Fault] | Callable[[int, str, str], Fault | None] | None = None,
        more_links: str = "pass",
        extra_headers: Mapping[str, str] | None = None,
    ):
        if more_links not in ("pass", "absolute", "foreign"):
            raise ValueError(f"more_links must be pass/absolute/foreign, got {more_links!r}")
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.faults = faults or {}
        self.more_links = more_links
        self.extra_headers = dict(extra_headers or {})
        self.records: list[ProxyRecord] = []
        self._lock = threading.Lock()
        self._counter = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.daemon_threads = True
        self._server.proxy = self  # type: ignore[attr-defined]
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/xAPI/"

    def fault_for(self, number: int, method: str, path: str) -> Fault | None:
        if callable(self.faults):
            return self.faults(number, method, path)
        return self.faults.get(number)

    def next_number(self) -> int:
        with self._lock:
            self._counter += 1
            return self._counter

    def record(self, rec: ProxyRecord) -> None:
        with self._lock:
            self.records.append(rec)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: a drop is unambiguous
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def _handle(self) -> None:
        proxy: FaultProxy = self.server.proxy  # type: ignore[attr-defined]
        number = proxy.next_number()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items()}
        fault = proxy.fault_for(number, self.command, self.path)
        rec = ProxyRecord(number, self.command, self.path, headers, fault, None)
        proxy.record(rec)
        if fault is not None and fault.kind == "status":
            payload = json.dumps({"detail": f"injected {fault.status}"}).encode()
            self.send_response(fault.status)
            if fault.retry_after is not None:
                self.send_header("Retry-After", fault.retry_after)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        if fault is not None and fault.kind == "drop":
            self._drop()
            return
        upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=60)
        try:
            forward = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(self.command, self.path, body=body, headers=forward)
            response = upstream.getresponse()
            data = response.read()
            status = response.status
            response_headers = [
                (k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP
            ]
        finally:
            upstream.close()
        rec.upstream_status = status
        if proxy.more_links != "pass" and status == 200 and data.startswith(b"{"):
            data = self._rewrite_more(data, proxy)
        self.send_response(status)
        for key, value in response_headers:
            self.send_header(key, value)
        for key, value in proxy.extra_headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if fault is not None and fault.kind == "drop_mid_response":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(data)

    @staticmethod
    def _rewrite_more(data: bytes, proxy: FaultProxy) -> bytes:
        payload = json.loads(data)
        more = payload.get("more")
        if isinstance(more, str) and more.startswith("/"):
            host = "localhost" if proxy.more_links == "foreign" else "127.0.0.1"
            payload["more"] = f"http://{host}:{proxy.port}{more}"
        return json.dumps(payload).encode()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = do_POST = do_PUT = _handle


# ---------------------------------------------------------------------------- OpenID provider


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class MiniOIDCProvider:
    """The parts of an OpenID provider that ralph's OIDC auth and a client need.

    Serves ``/.well-known/openid-configuration`` (no introspection / userinfo endpoint,
    so ralph validates the bearer token offline as an HS256 JWT), ``/jwks`` (the HS256
    key as an ``oct`` JWK) and ``/token`` (client-credentials grant with HTTP basic client
    auth), on 127.0.0.1.

    Parameters
    ----------
    client_id, client_secret : str
        The only client the token endpoint accepts.
    target : str, optional
        The ralph ``target`` claim put in tokens (the fs sub-directory they read/write).
    ttl : int
        Lifetime of issued tokens, in seconds.
    """

    def __init__(
        self,
        *,
        client_id: str = "talentml-tests",
        client_secret: str = "s3cret-client",
        target: str | None = None,
        ttl: int = 600,
    ):
        self.client_id = client_id
        self.client_secret = client_secret
        self.target = target
        self.ttl = ttl
        self.key = hashlib.sha256(b"talentml-test-signing-key").digest()
        #: Tokens to issue already expired (decremented per issued token).
        self.expire_next = 0
        self.n_issued = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _OIDCHandler)
        self._server.daemon_threads = True
        self._server.provider = self  # type: ignore[attr-defined]
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/token"

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks",
            "token_endpoint": self.token_url,
            "id_token_signing_alg_values_supported": ["HS256"],
            "grant_types_supported": ["client_credentials"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [{"kty": "oct", "k": _b64url(self.key), "alg": "HS256", "kid": "k1"}]}

    def mint(self, *, subject: str, expires_in: int, scope: str = "all") -> str:
        """Sign a JWT access token that ralph accepts (or rejects once expired)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "iat": now,
            "exp": now + expires_in,
            "scope": scope,
        }
        if self.target:
            claims["target"] = self.target
        header = {"alg": "HS256", "typ": "JWT", "kid": "k1"}
        signing_input = ".".join(
            _b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)
        )
        signature = hmac.new(self.key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64url(signature)}"

    def issue(self) -> dict[str, Any]:
        with self._lock:
            self.n_issued += 1
            expired = self.expire_next > 0
            if expired:
                self.expire_next -= 1
        token = self.mint(subject=self.client_id, expires_in=-120 if expired else self.ttl)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.ttl}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _OIDCHandler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def _send(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        provider: MiniOIDCProvider = self.server.provider  # type: ignore[attr-defined]
        path = "/" + urlsplit(self.path).path.lstrip("/")  # ralph asks for "//.well-known/..."
        if path == "/.well-known/openid-configuration":
            self._send(200, provider.discovery())
        elif path == "/jwks":
            self._send(200, provider.jwks())
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:
        provider: MiniOIDCProvider = self.server.provider  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode()) if length else {}
        if urlsplit(self.path).path != "/token":
            self._send(404, {"error": "not_found"})
            return
        expected = "Basic " + base64.b64encode(
            f"{provider.client_id}:{provider.client_secret}".encode()
        ).decode("ascii")
        if self.headers.get("Authorization") != expected:
            self._send(401, {"error": "invalid_client"})
            return
        if form.get("grant_type") != ["client_credentials"]:
            self._send(400, {"error": "unsupported_grant_type"})
            return
        self._send(200, provider.issue())


# ---------------------------------------------------------------------------- statements


def make_statements(
    n: int,
    *,
    seed: int = 0,
    n_employees: int = 60,
    start: datetime = datetime(2024, 3, 1, tzinfo=UTC),
    days: int = 45,
) -> list[dict[str, Any]]:
    """Generate ``n`` valid xAPI 1.0.3 statements of a corporate LMS, deterministically.

    Account actors (``https://hr.example.com`` / ``E00042``), ADL verbs with displays,
    course and assessment activities with definitions, results with scores, success,
    completion and ISO 8601 durations on completions and assessments, a registration
    per employee and course, and timestamps spread over ``days`` days (millisecond
    precision, ``Z``).
    """
    rng = random.Random(seed)
    employees = [f"E{i:05d}" for i in range(1, n_employees + 1)]
    names = {e: f"Employee {e[1:]}" for e in employees}
    verbs, weights = zip(*VERBS.items(), strict=True)
    statements = []
    for _ in range(n):
        employee = rng.choice(employees)
        verb = rng.choices(verbs, weights=weights)[0]
        course = rng.choice(COURSES)
        assessment = verb in ("answered", "passed", "failed", "attempted")
        activity_id = f"https://lms.example.com/courses/{course}"
        activity_type = "http://adlnet.gov/expapi/activities/course"
        title = course.replace("-", " ").title()
        if assessment:
            activity_id += "/assessment"
            activity_type = "http://adlnet.gov/expapi/activities/assessment"
            title += " - assessment"
        when = start + timedelta(seconds=rng.uniform(0, days * 86400))
        registration = uuid.UUID(
            bytes=hashlib.md5(f"{employee}/{course}".encode()).digest(), version=4
        )
        statement: dict[str, Any] = {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "actor": {
                "objectType": "Agent",
                "name": names[employee],
                "account": {"homePage": HOME_PAGE, "name": employee},
            },
            "verb": {"id": ADL + verb, "display": {"en-US": verb}},
            "object": {
                "objectType": "Activity",
                "id": activity_id,
                "definition": {"name": {"en-US": title}, "type": activity_type},
            },
            "context": {
                "registration": str(registration),
                "platform": "Example LMS",
                "language": "en-US",
                "contextActivities": {
                    "category": [{"id": "https://lms.example.com/programs/leadership"}]
                },
            },
            "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        }
        if verb in ("completed", "passed", "failed", "answered"):
            raw = rng.randint(40, 100) if verb != "failed" else rng.randint(0, 59)
            statement["result"] = {
                "score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100},
                "success": verb != "failed" and raw >= 60,
                "completion": verb in ("completed", "passed"),
                "duration": f"PT{rng.randint(1, 90)}M{rng.randint(0, 59)}S",
            }
        elif verb == "progressed":
            statement["result"] = {
                "extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": 50}
            }
        statements.append(statement)
    return statements


def load_datasim_statements() -> list[dict[str, Any]]:
    """Real statements from ``../shared/data/xapi/datasim``: simple, long and the TCCC set."""
    out: list[dict[str, Any]] = []
    for name in ("simple.json", "long.json", "tccc_dev_simulated.json"):
        data = json.loads((DATASIM_DIR / name).read_text(encoding="utf-8"))
        out.extend(data if isinstance(data, list) else [data])
    return out
