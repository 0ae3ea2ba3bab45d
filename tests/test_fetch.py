"""SafeFetcher refuses what could reach our own network and bounds what it reads.

Nothing here leaves loopback: servers listen on 127.0.0.1, host names are answered by injected
resolvers, and the injected network backend fails the test if asked to dial anything else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import httpcore
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from microcred.fetch import FetchError, FetchPolicy, Resolver, SafeFetcher, address_refusal, check_url

DEV = FetchPolicy(allow_http=True, allow_loopback=True)
HUGE = 64 * 1024 * 1024


# --- the network seams ----------------------------------------------------------------------


class LoopbackOnlyBackend(httpcore.AsyncNetworkBackend):
    """Dials 127.0.0.1 for real; any other address fails the test before a packet is sent."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.dialled: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append((host, port))
        if host != "127.0.0.1":
            pytest.fail(f"the fetcher tried to connect to {host}:{port}")
        return await self.inner.connect_tcp(host, port, timeout=timeout)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        pytest.fail(f"the fetcher tried to connect to unix socket {path}")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class RefusingBackend(LoopbackOnlyBackend):
    """Records where the fetcher would connect and refuses, without touching the network."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.dialled.append((host, port))
        raise httpcore.ConnectError("connection refused (test backend)")


@dataclass
class FakeDns:
    """Answers every host name with the next list of addresses (the last one repeats)."""

    answers: list[list[str]]
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


async def no_dns(host: str, port: int) -> Sequence[str]:
    pytest.fail(f"{host} should never have been sent to the resolver")


def fetcher(
    backend: httpcore.AsyncNetworkBackend,
    policy: FetchPolicy = DEV,
    *,
    resolver: Resolver = no_dns,
    ssl_context: ssl.SSLContext | None = None,
) -> SafeFetcher:
    return SafeFetcher(policy, resolver=resolver, network_backend=backend, ssl_context=ssl_context)


async def refused(fetcher: SafeFetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    return caught.value


# --- a tiny HTTP/1.1 server on 127.0.0.1 ----------------------------------------------------


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""


Route = Callable[["LoopbackServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def head(status: int, *headers: tuple[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", *(f"{k}: {v}" for k, v in headers), "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def reply(status: int, body: bytes = b"", *headers: tuple[str, str]) -> Route:
    async def route(server: LoopbackServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head(status, ("Content-Length", str(len(body))), *headers) + body)
        await writer.drain()

    return route


def redirect(location: str) -> Route:
    return reply(302, b"", ("Location", location))


async def endless(server: LoopbackServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A body with no Content-Length that would go on for 64 MiB if the client kept reading."""
    writer.write(head(200, ("Content-Type", "application/json")))
    chunk = b"x" * 65536
    while server.sent < HUGE:
        writer.write(chunk)
        await writer.drain()
        server.sent += len(chunk)


async def announces_huge(server: LoopbackServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Announces 10 GiB, then sends nothing until the client hangs up."""
    writer.write(head(200, ("Content-Length", str(10 * 1024**3))))
    await writer.drain()
    await reader.read()


async def drip(server: LoopbackServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A 100-byte body sent one byte every half second: each read is quick, the whole is slow."""
    writer.write(head(200, ("Content-Length", "100")))
    for _ in range(100):
        writer.write(b"x")
        await writer.drain()
        await asyncio.sleep(0.5)


def close_delimited(body: bytes) -> Route:
    async def route(server: LoopbackServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(head(200) + body)
        await writer.drain()

    return route


LIMIT = 1000
ROUTES: dict[str, Route] = {
    "/ok": reply(200, b'{"ok": true}', ("Content-Type", "application/json")),
    "/missing": reply(404, b"no such thing"),
    "/gzip": reply(200, b"\x1f\x8b", ("Content-Encoding", "gzip")),
    "/to-metadata": redirect("http://169.254.169.254/latest/meta-data/"),
    "/to-ok-by-name": redirect("/ok"),
    "/loop": redirect("/loop"),
    "/hop/3": redirect("/hop/2"),
    "/hop/2": redirect("/hop/1"),
    "/hop/1": redirect("/ok"),
    "/redirect-nowhere": reply(302),
    "/endless": endless,
    "/announces-huge": announces_huge,
    "/drip": drip,
    "/at-limit": reply(200, b"a" * LIMIT),
    "/over-limit": reply(200, b"a" * (LIMIT + 1)),
    "/over-limit-undeclared": close_delimited(b"a" * (LIMIT + 1)),
    "/accepted": reply(204),
    "/unavailable": reply(503, b"down for maintenance"),
    "/to-accepted": reply(307, b"", ("Location", "/accepted")),
}


class LoopbackServer:
    """Serves ROUTES on 127.0.0.1 (optionally over TLS) and records what it was asked."""

    def __init__(self, *, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.seen: list[Seen] = []
        self.sent = 0
        self.port = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> LoopbackServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def url(self, path: str, *, host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    async def idle(self) -> None:
        """Wait until every exchange so far has finished."""
        await asyncio.wait_for(asyncio.gather(*self._tasks), 30)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            request = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path = request[0].split(" ")[:2]
            fields = (line.split(":", 1) for line in request[1:] if line)
            headers = {name.strip().lower(): value.strip() for name, value in fields}
            body = await reader.readexactly(int(headers["content-length"])) if "content-length" in headers else b""
            self.seen.append(Seen(path, headers, method, body))
            await ROUTES.get(path, reply(404))(self, reader, writer)
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client hung up, which several tests expect it to
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass
            self._tasks.discard(task)


@pytest.fixture
def backend() -> LoopbackOnlyBackend:
    return LoopbackOnlyBackend()


# --- tests ----------------------------------------------------------------------------------


class TestFetchPolicy:
    def test_defaults_are_for_the_open_internet(self) -> None:
        policy = FetchPolicy()
        assert (policy.allow_http, policy.allow_private, policy.allow_loopback) == (False, False, False)
        assert (policy.max_body_bytes, policy.total_timeout, policy.max_redirects) == (1024 * 1024, 10.0, 3)
        assert policy.allowed_ports is None

    @pytest.mark.parametrize(
        "bad", [{"max_body_bytes": -1}, {"total_timeout": 0}, {"total_timeout": -1.0}, {"max_redirects": -1}]
    )
    def test_nonsense_limits_are_refused(self, bad: dict[str, Any]) -> None:
        with pytest.raises(ValueError):
            FetchPolicy(**bad)

    @pytest.mark.parametrize("address", ["10.1.2.3", "172.31.0.1", "192.168.0.1", "100.64.0.1", "fd00::1"])
    def test_allow_private_opens_private_ranges(self, address: str) -> None:
        assert address_refusal(ip_address(address), FetchPolicy()) == "private"
        assert address_refusal(ip_address(address), FetchPolicy(allow_private=True)) is None

    @pytest.mark.parametrize("address", ["169.254.169.254", "fe80::1", "0.0.0.0", "::", "224.0.0.1", "ff02::1"])
    def test_some_addresses_stay_refused_whatever_the_policy(self, address: str) -> None:
        everything = FetchPolicy(allow_http=True, allow_private=True, allow_loopback=True)
        assert address_refusal(ip_address(address), everything) is not None

    @pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111", "::ffff:93.184.215.14"])
    def test_public_addresses_are_allowed(self, address: str) -> None:
        assert address_refusal(ip_address(address), FetchPolicy()) is None


@pytest.mark.asyncio
class TestUrlChecks:
    @pytest.mark.parametrize("url", ["http://example.com/", "ftp://example.com/x", "file:///etc/passwd"])
    async def test_only_https_by_default(self, backend: LoopbackOnlyBackend, url: str) -> None:
        error = await refused(fetcher(backend, FetchPolicy()), url)
        assert error.reason == "scheme"
        assert url.rstrip("/") in str(error)
        assert backend.dialled == []

    async def test_credentials_in_the_url_are_refused(self, backend: LoopbackOnlyBackend) -> None:
        error = await refused(fetcher(backend, FetchPolicy()), "https://admin:secret@example.com/")
        assert error.reason == "credentials"
        assert "secret" not in str(error)
        assert backend.dialled == []

    async def test_ports_outside_the_allow_list_are_refused(self, backend: LoopbackOnlyBackend) -> None:
        policy = FetchPolicy(allowed_ports=frozenset({443}))
        error = await refused(fetcher(backend, policy), "https://example.com:8443/")
        assert error.reason == "port"
        assert backend.dialled == []

    @pytest.mark.parametrize("url", ["https://exa mple.com/", "https://example.com%00.evil/", "https://[::1/"])
    async def test_unparseable_urls_are_refused(self, backend: LoopbackOnlyBackend, url: str) -> None:
        error = await refused(fetcher(backend), url)
        assert error.reason == "url"
        assert backend.dialled == []


@pytest.mark.asyncio
class TestAddressChecks:
    @pytest.mark.parametrize(
        "url",
        [
            "http://127.0.0.1/",
            "http://127.0.0.2:8080/",
            "http://10.0.0.5/",
            "https://10.0.0.5/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.169.254./latest/meta-data/",
            "http://0.0.0.0/",
            "http://224.0.0.1/",
            "http://240.0.0.1/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata address
            "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
            "http://[fe80::1]/",
            "http://[fc00::1]/",
            "http://2130706433/",  # 127.0.0.1 in decimal
            "http://2852039166/",  # 169.254.169.254 in decimal
            "http://0x7f000001/",
            "http://0x7f.0.0.1/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://017700000001/",  # octal
        ],
    )
    async def test_literal_internal_addresses_are_refused_without_dns(
        self, backend: LoopbackOnlyBackend, url: str
    ) -> None:
        error = await refused(fetcher(backend, FetchPolicy(allow_http=True)), url)
        assert error.reason == "address"
        assert url.split("/")[2] in str(error)
        assert backend.dialled == []

    @pytest.mark.parametrize("url", ["http://0177.0.0.1/", "http://0251.0376.0251.0376/", "http://1.2.3.4.5/"])
    async def test_malformed_dotted_addresses_are_refused(self, backend: LoopbackOnlyBackend, url: str) -> None:
        error = await refused(fetcher(backend, FetchPolicy(allow_http=True)), url)
        assert error.reason == "url"
        assert backend.dialled == []

    @pytest.mark.parametrize(
        "answers",
        [["10.1.2.3"], ["127.0.0.1"], ["169.254.169.254"], ["::ffff:10.1.2.3"], ["93.184.215.14", "10.1.2.3"]],
    )
    async def test_a_name_resolving_to_any_internal_address_is_refused(
        self, backend: LoopbackOnlyBackend, answers: list[str]
    ) -> None:
        dns = FakeDns([answers])
        error = await refused(fetcher(backend, FetchPolicy(), resolver=dns), "https://issuer.example/did.json")
        assert error.reason == "address"
        assert "issuer.example" in str(error)
        assert dns.asked == ["issuer.example"]
        assert backend.dialled == []

    async def test_the_system_resolver_is_checked_too(self, backend: LoopbackOnlyBackend) -> None:
        fetch = SafeFetcher(FetchPolicy(), network_backend=backend)  # real getaddrinfo; localhost is local
        error = await refused(fetch, "https://localhost/")
        assert error.reason == "address"
        assert backend.dialled == []

    async def test_allow_private_never_opens_the_metadata_address(self, backend: LoopbackOnlyBackend) -> None:
        dns = FakeDns([["169.254.169.254"]])
        policy = FetchPolicy(allow_private=True, allow_loopback=True)
        error = await refused(fetcher(backend, policy, resolver=dns), "https://metadata.example/")
        assert error.reason == "address"
        assert backend.dialled == []

    async def test_allow_private_connects_to_the_checked_private_address(self) -> None:
        backend = RefusingBackend()
        dns = FakeDns([["10.1.2.3"]])
        error = await refused(fetcher(backend, FetchPolicy(allow_private=True), resolver=dns), "https://lan.example/")
        assert error.reason == "connect"
        assert backend.dialled == [("10.1.2.3", 443)]

    async def test_unresolvable_names_fail_as_dns(self, backend: LoopbackOnlyBackend) -> None:
        async def nxdomain(host: str, port: int) -> Sequence[str]:
            raise OSError(f"{host}: Name or service not known")

        error = await refused(fetcher(backend, FetchPolicy(), resolver=nxdomain), "https://nowhere.example/")
        assert error.reason == "dns"
        assert backend.dialled == []


@pytest.mark.asyncio
class TestConnectingToTheCheckedAddress:
    async def test_a_name_is_dialled_at_its_checked_address_and_sent_as_host(
        self, backend: LoopbackOnlyBackend
    ) -> None:
        dns = FakeDns([["127.0.0.1"]])
        async with LoopbackServer() as server:
            fetched = await fetcher(backend, resolver=dns).fetch(server.url("/ok", host="issuer.test"))
        assert fetched.body == b'{"ok": true}'
        assert dns.asked == ["issuer.test"]
        assert backend.dialled == [("127.0.0.1", server.port)]
        assert server.seen[0].headers["host"] == f"issuer.test:{server.port}"

    async def test_a_name_rebinding_to_an_internal_address_is_refused_on_the_next_hop(
        self, backend: LoopbackOnlyBackend
    ) -> None:
        dns = FakeDns([["127.0.0.1"], ["10.1.2.3"]])
        async with LoopbackServer() as server:
            error = await refused(fetcher(backend, resolver=dns), server.url("/to-ok-by-name", host="issuer.test"))
        assert error.reason == "address"
        assert dns.asked == ["issuer.test", "issuer.test"]
        assert [seen.path for seen in server.seen] == ["/to-ok-by-name"]

    async def test_an_ipv4_mapped_loopback_address_is_dialled_as_ipv4(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            fetched = await fetcher(backend).fetch(f"http://[::ffff:127.0.0.1]:{server.port}/ok")
        assert fetched.status == 200
        assert backend.dialled == [("127.0.0.1", server.port)]


@pytest.mark.asyncio
class TestFetching:
    async def test_a_document_is_fetched(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            fetched = await fetcher(backend).fetch(server.url("/ok"), accept="application/did+json")
        assert fetched.url == server.url("/ok")
        assert (fetched.status, fetched.content_type, fetched.body) == (200, "application/json", b'{"ok": true}')
        assert server.seen[0].headers["accept"] == "application/did+json"
        assert server.seen[0].headers["accept-encoding"] == "identity"

    async def test_an_error_status_is_refused_with_the_status(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            error = await refused(fetcher(backend), server.url("/missing"))
        assert (error.reason, error.status) == ("status", 404)
        assert server.url("/missing") in str(error)

    async def test_an_encoded_body_we_did_not_ask_for_is_refused(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            error = await refused(fetcher(backend), server.url("/gzip"))
        assert error.reason == "encoding"


@pytest.mark.asyncio
class TestRedirects:
    async def test_redirects_are_followed_up_to_the_limit(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            fetched = await fetcher(backend).fetch(server.url("/hop/3"))
        assert fetched.url == server.url("/ok")
        assert [seen.path for seen in server.seen] == ["/hop/3", "/hop/2", "/hop/1", "/ok"]

    async def test_one_redirect_too_many_is_refused(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            error = await refused(fetcher(backend), server.url("/loop"))
        assert error.reason == "redirects"
        assert len(server.seen) == 1 + DEV.max_redirects

    async def test_a_redirect_to_the_metadata_address_is_refused_before_connecting(
        self, backend: LoopbackOnlyBackend
    ) -> None:
        async with LoopbackServer() as server:
            error = await refused(fetcher(backend), server.url("/to-metadata"))
        assert error.reason == "address"
        assert "169.254.169.254" in str(error)
        assert backend.dialled == [("127.0.0.1", server.port)]

    async def test_a_redirect_without_location_is_refused(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            error = await refused(fetcher(backend), server.url("/redirect-nowhere"))
        assert (error.reason, error.status) == ("status", 302)


@pytest.mark.asyncio
class TestLimits:
    async def test_a_body_at_the_limit_is_read(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            fetched = await fetcher(backend, replace(DEV, max_body_bytes=LIMIT)).fetch(server.url("/at-limit"))
        assert len(fetched.body) == LIMIT

    @pytest.mark.parametrize("path", ["/over-limit", "/over-limit-undeclared"])
    async def test_one_byte_over_the_limit_is_refused(self, backend: LoopbackOnlyBackend, path: str) -> None:
        async with LoopbackServer() as server:
            error = await refused(fetcher(backend, replace(DEV, max_body_bytes=LIMIT)), server.url(path))
        assert error.reason == "too_large"

    async def test_a_huge_body_is_refused_without_reading_it_all(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            error = await refused(fetcher(backend), server.url("/endless"))
            await server.idle()  # the server stops once it finds the client has hung up
        assert error.reason == "too_large"
        assert server.sent < HUGE

    async def test_a_huge_content_length_is_refused_before_reading(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            # the server sends no body at all: only the announced length can make this fail as too_large
            error = await refused(fetcher(backend), server.url("/announces-huge"))
        assert error.reason == "too_large"
        assert "10737418240" in str(error)

    async def test_a_slow_drip_body_hits_the_total_time_limit(self, backend: LoopbackOnlyBackend) -> None:
        policy = FetchPolicy(allow_http=True, allow_loopback=True, total_timeout=1.0)
        async with LoopbackServer() as server:
            error = await refused(fetcher(backend, policy), server.url("/drip"))
        assert error.reason == "timeout"
        assert server.url("/drip") in str(error)


# --- TLS: verified against the host name, while dialling the checked address -------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A self-signed certificate for issuer.test (and nothing else), as key + cert PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("issuer.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("tls") / "issuer.pem"
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(key_pem + cert.public_bytes(serialization.Encoding.PEM))
    return path


def tls_server(certificate: Path, sni: list[str | None]) -> LoopbackServer:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate)
    context.sni_callback = lambda sock, server_name, ctx: sni.append(server_name)
    return LoopbackServer(tls=context)


@pytest.mark.asyncio
class TestTls:
    async def test_the_certificate_is_verified_against_the_host_name_not_the_address(
        self, backend: LoopbackOnlyBackend, certificate: Path
    ) -> None:
        sni: list[str | None] = []
        trusted = ssl.create_default_context(cafile=str(certificate))
        policy = FetchPolicy(allow_loopback=True)
        async with tls_server(certificate, sni) as server:
            fetched = await fetcher(backend, policy, resolver=FakeDns([["127.0.0.1"]]), ssl_context=trusted).fetch(
                server.url("/ok", host="issuer.test")
            )
        assert fetched.body == b'{"ok": true}'
        assert backend.dialled == [("127.0.0.1", server.port)]
        assert sni == ["issuer.test"]

    async def test_an_untrusted_certificate_is_refused(self, backend: LoopbackOnlyBackend, certificate: Path) -> None:
        policy = FetchPolicy(allow_loopback=True)
        async with tls_server(certificate, []) as server:
            error = await refused(
                fetcher(backend, policy, resolver=FakeDns([["127.0.0.1"]])), server.url("/ok", host="issuer.test")
            )
        assert error.reason == "connect"
        assert "certificate" in str(error).lower()
        assert server.seen == []

    async def test_a_certificate_for_another_name_is_refused(
        self, backend: LoopbackOnlyBackend, certificate: Path
    ) -> None:
        trusted = ssl.create_default_context(cafile=str(certificate))
        policy = FetchPolicy(allow_loopback=True)
        async with tls_server(certificate, []) as server:
            error = await refused(
                fetcher(backend, policy, resolver=FakeDns([["127.0.0.1"]]), ssl_context=trusted),
                server.url("/ok", host="other.test"),
            )
        assert error.reason == "connect"
        assert server.seen == []

    async def test_an_https_page_redirecting_to_http_is_refused(
        self, backend: LoopbackOnlyBackend, certificate: Path
    ) -> None:
        trusted = ssl.create_default_context(cafile=str(certificate))
        policy = FetchPolicy(allow_loopback=True)
        async with tls_server(certificate, []) as server:
            error = await refused(
                fetcher(backend, policy, resolver=FakeDns([["127.0.0.1"]]), ssl_context=trusted),
                server.url("/to-metadata", host="issuer.test"),
            )
        assert error.reason == "scheme"
        assert "http://169.254.169.254/latest/meta-data/" in str(error)
        assert backend.dialled == [("127.0.0.1", server.port)]


@pytest.mark.asyncio
class TestPosting:
    """POST (webhook deliveries): the same checks, no redirect followed, the answer cut short."""

    async def test_the_body_and_headers_are_sent(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            answer = await fetcher(backend).post(server.url("/accepted"), b'{"type": "x"}', headers={"webhook-id": "e1"})
        assert answer.status == 204
        seen = server.seen[0]
        assert (seen.method, seen.body) == ("POST", b'{"type": "x"}')
        assert seen.headers["content-type"] == "application/json" and seen.headers["webhook-id"] == "e1"

    async def test_a_redirect_is_not_followed(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            with pytest.raises(FetchError) as caught:
                await fetcher(backend).post(server.url("/to-accepted"), b"{}")
        assert (caught.value.reason, caught.value.status) == ("status", 307)
        assert "not followed" in str(caught.value)
        assert [seen.path for seen in server.seen] == ["/to-accepted"]

    async def test_an_error_status_fails_with_the_status(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            with pytest.raises(FetchError) as caught:
                await fetcher(backend).post(server.url("/unavailable"), b"{}")
        assert (caught.value.reason, caught.value.status) == ("status", 503)

    async def test_a_long_answer_is_cut_not_refused(self, backend: LoopbackOnlyBackend) -> None:
        async with LoopbackServer() as server:
            answer = await fetcher(backend, replace(DEV, max_body_bytes=LIMIT)).post(server.url("/endless"), b"{}")
        assert answer.status == 200 and len(answer.body) == LIMIT
        assert server.sent < HUGE

    async def test_internal_addresses_are_refused_before_connecting(self, backend: LoopbackOnlyBackend) -> None:
        dns = FakeDns([["10.1.2.3"]])
        for url in ("http://127.0.0.1:9/hook", "https://hooks.example/in"):
            with pytest.raises(FetchError) as caught:
                await fetcher(backend, FetchPolicy(allow_http=True), resolver=dns).post(url, b"{}")
            assert caught.value.reason == "address"
        assert backend.dialled == []


class TestCheckUrl:
    """The checks that need no DNS, for refusing a URL when it is registered."""

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("http://hooks.example/in", "scheme"),
            ("https://user:pw@hooks.example/in", "credentials"),
            ("https://10.0.0.5/in", "address"),
            ("https://[::1]/in", "address"),
            ("https://2130706433/in", "address"),
            ("https://localhost/in", "address"),
            ("https://api.localhost/in", "address"),
            ("https://169.254.169.254/latest", "address"),
            ("https://exa mple.com/", "url"),
        ],
    )
    def test_refused(self, url: str, reason: str) -> None:
        with pytest.raises(FetchError) as caught:
            check_url(url, FetchPolicy())
        assert caught.value.reason == reason

    def test_a_public_https_url_passes_and_loopback_only_when_allowed(self) -> None:
        assert str(check_url("https://hooks.example/in?x=1", FetchPolicy())) == "https://hooks.example/in?x=1"
        assert check_url("http://localhost:8080/in", DEV).port == 8080
        assert check_url("http://127.0.0.1:8080/in", DEV).host == "127.0.0.1"
