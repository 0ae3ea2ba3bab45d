"""The service's one way to fetch a document from another host, safe against SSRF.

Every URL the outside world can name — a credential a user asks us to verify, a foreign issuer's
did:web document, a status list — is fetched through :class:`SafeFetcher`. For each hop it:

1. parses the URL with httpx's parser and refuses other schemes than https (http only with
   ``allow_http``), credentials in the URL, and ports outside ``allowed_ports`` if one is set;
2. resolves the host once (literal IPs, including ``2130706433`` / ``0x7f.1`` forms, are read
   the way the C library would read them, not sent to DNS) and refuses if ANY address is not
   globally routable — loopback, private, link-local (cloud metadata at 169.254.169.254),
   unspecified, multicast, shared (100.64/10), reserved, and the same hidden in IPv4-mapped,
   NAT64 or 6to4 IPv6 forms;
3. connects only to the addresses it checked: the network backend is handed the IP, while the
   Host header, TLS SNI and certificate verification keep the host name, so a DNS answer that
   changes between the check and the connection (DNS rebinding) cannot reach an internal host;
4. follows at most ``max_redirects`` redirects itself, running steps 1–3 on every hop;
5. reads the body while counting (refusing a Content-Length above ``max_body_bytes`` before
   reading, and stopping as soon as the count passes it), all under one deadline that covers
   DNS, connect, headers and body of every hop, so a server dripping bytes cannot hold us.

Any failure is a :class:`FetchError` whose ``reason`` says which check refused.

:meth:`SafeFetcher.post` sends a body (webhook deliveries) under the same checks, but follows no
redirect: a POST is never replayed to a host the caller did not name. :func:`check_url` runs the
checks that need no DNS, to refuse a URL when it is registered rather than when it is first used.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any, Literal

import httpcore
import httpx

__all__ = [
    "DEFAULT_ACCEPT",
    "FetchError",
    "FetchErrorReason",
    "FetchPolicy",
    "Fetched",
    "Resolver",
    "SafeFetcher",
    "address_refusal",
    "check_url",
    "system_resolver",
]

DEFAULT_ACCEPT = "application/ld+json, application/json;q=0.9, */*;q=0.1"

FetchErrorReason = Literal[
    "url",  # not a URL we can parse, or a host that is neither a name nor a valid IP
    "scheme",  # not https (or http when allowed)
    "credentials",  # user:password@ in the URL
    "port",  # a port outside FetchPolicy.allowed_ports
    "dns",  # the host name does not resolve
    "address",  # the host is, or resolves to, an address we must not reach
    "connect",  # TCP or TLS (including certificate verification) failed
    "network",  # the connection broke or the server spoke broken HTTP
    "timeout",  # the whole fetch took longer than FetchPolicy.total_timeout
    "too_large",  # the body is longer than FetchPolicy.max_body_bytes
    "encoding",  # a Content-Encoding we did not ask for (we only accept identity)
    "redirects",  # more redirects than FetchPolicy.max_redirects
    "status",  # a final status other than 2xx, or a redirect without a Location
]

IPAddress = IPv4Address | IPv6Address

#: Resolves a host name to IP address strings (any order; every one of them is checked).
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"https": 443, "http": 80}
#: The networks ``allow_private`` opens: RFC 1918, carrier-grade NAT (RFC 6598), IPv6 ULA.
_PRIVATE: tuple[IPv4Network | IPv6Network, ...] = tuple(
    ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_NAT64 = IPv6Network("64:ff9b::/96")
#: what may go to the resolver (after IDNA): letters, digits, hyphens, underscores, in dotted labels
_HOST_NAME = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?")
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9a-fA-F]*")


class FetchError(Exception):
    """A fetch was refused or failed; ``reason`` says which check, the message names the URL."""

    def __init__(self, reason: FetchErrorReason, url: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.reason: FetchErrorReason = reason
        self.url = url
        #: the HTTP status, for reason "status"
        self.status = status


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may do. The defaults are for the open internet.

    ``allowed_ports`` is ``None`` by default, meaning any port: the address checks, not the port,
    keep requests off our own network, and some issuers publish on odd ports. Set it (e.g.
    ``frozenset({443})``) to refuse other ports too.

    ``allow_loopback`` and ``allow_private`` are for tests and development (verifying credentials
    issued by a service on 127.0.0.1 or on a LAN). Link-local (cloud metadata), unspecified,
    multicast and reserved addresses are refused whatever the policy says.
    """

    allow_http: bool = False
    allow_private: bool = False
    allow_loopback: bool = False
    allowed_ports: frozenset[int] | None = None
    max_body_bytes: int = 1024 * 1024
    #: seconds for the whole fetch: DNS, connect, TLS, headers and body of every hop
    total_timeout: float = 10.0
    max_redirects: int = 3

    def __post_init__(self) -> None:
        if self.max_body_bytes < 0:
            raise ValueError(f"max_body_bytes must be >= 0, not {self.max_body_bytes}")
        if not self.total_timeout > 0:
            raise ValueError(f"total_timeout must be > 0 seconds, not {self.total_timeout}")
        if self.max_redirects < 0:
            raise ValueError(f"max_redirects must be >= 0, not {self.max_redirects}")


@dataclass(frozen=True)
class Fetched:
    """A successful (2xx) response, read in full. ``url`` is the final URL, after redirects."""

    url: str
    status: int
    content_type: str
    body: bytes


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (``getaddrinfo``), run off the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def address_refusal(address: IPAddress, policy: FetchPolicy) -> str | None:
    """Why ``policy`` forbids connecting to ``address`` (e.g. ``"loopback"``), or None if it allows it."""
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            why = address_refusal(embedded, policy)
            return None if why is None else f"{why} (as {embedded})"
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return None if policy.allow_loopback else "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if any(address.version == net.version and address in net for net in _PRIVATE):
        return None if policy.allow_private else "private"
    if address.is_reserved or not address.is_global:
        return "reserved or not globally routable"
    return None


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (IPv4-mapped, NAT64 well-known prefix, 6to4)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _connectable(address: IPAddress) -> IPAddress:
    """IPv4-mapped IPv6 addresses are dialled as IPv4, which works without an IPv6 stack."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _literal_address(host: str) -> IPAddress | None:
    """The IP address ``host`` spells, or None for a host name.

    IPv4 is read as inet_aton and the WHATWG URL standard read it: 1 to 4 parts, each decimal,
    octal (leading 0) or hex (0x), so ``2130706433``, ``0x7f.1`` and ``0177.0.0.1`` are all
    127.0.0.1 — a resolver would say so too, and we must not take them for names. A host whose
    last label is numeric but which is no valid address raises ValueError.
    """
    if ":" in host:
        return IPv6Address(host)
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()
    if not _NUMERIC_LABEL.fullmatch(labels[-1]):
        return None
    numbers = [_ipv4_number(label) for label in labels]
    if len(numbers) > 4 or any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"{host} is not a valid IPv4 address")
    value = numbers[-1]
    for position, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - position))
    return IPv4Address(value)


def _ipv4_number(label: str) -> int:
    if label[:2] in ("0x", "0X"):
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        return int(label, 8)
    return int(label, 10)  # ValueError for "" and anything else


def _parse(text: str, named_as: str, policy: FetchPolicy, *, base: httpx.URL | None = None) -> httpx.URL:
    """Parse (and resolve against ``base``) a URL and check what can be checked without DNS."""
    try:
        url = base.join(text) if base is not None else httpx.URL(text)
    except httpx.InvalidURL as exc:
        raise FetchError("url", named_as, f"{text!r} is not a URL we can fetch: {exc}") from None
    schemes = ("https", "http") if policy.allow_http else ("https",)
    if url.scheme not in schemes:
        shown = text if base is None else str(url)
        allowed = " or ".join(schemes)
        raise FetchError("scheme", shown, f"refusing to fetch {shown}: only {allowed} URLs are fetched")
    if url.userinfo:
        shown = str(url.copy_with(userinfo=b""))  # never repeat the password
        raise FetchError("credentials", shown, f"refusing to fetch {shown}: it carries a user name or password")
    if not url.host:
        raise FetchError("url", str(url), f"{url} names no host")
    allowed_ports = policy.allowed_ports
    if allowed_ports is not None and _port(url) not in allowed_ports:
        raise FetchError(
            "port", str(url), f"refusing to fetch {url}: port {_port(url)} is not one of {sorted(allowed_ports)}"
        )
    return url


def check_url(url: str, policy: FetchPolicy) -> httpx.URL:
    """The checks :class:`SafeFetcher` makes before resolving the host: scheme, credentials,
    port, host syntax, and the address of a literal IP host (``localhost`` and ``*.localhost``
    count as loopback, RFC 6761). For refusing a URL as soon as it is given, e.g. a webhook
    endpoint when it is registered; every fetch still checks the addresses the name resolves to."""
    parsed = _parse(url, url, policy)
    host = parsed.raw_host.decode("ascii")
    try:
        literal = _literal_address(host)
    except ValueError:
        raise FetchError("url", url, f"{url} names {host}, which is neither a host name nor an IP address") from None
    if literal is None:
        if not _HOST_NAME.fullmatch(host):
            raise FetchError("url", url, f"{url} names {host!r}, which is not a valid host name")
        if host.rstrip(".").lower().rsplit(".", 1)[-1] == "localhost" and not policy.allow_loopback:
            raise FetchError("address", url, f"refusing {url}: {host} is this machine (loopback)")
        return parsed
    why = address_refusal(literal, policy)
    if why is not None:
        raise FetchError("address", url, f"refusing {url}: {host} is a {why} address")
    return parsed


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses a fetch has checked for the host name httpcore asks for."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend, pins: Mapping[str, Sequence[str]]) -> None:
        self._inner = inner
        self._pins = pins

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self._pins.get(host)
        if not addresses:  # a bug, not a user error: every hop pins its host before connecting
            raise RuntimeError(f"refusing to connect to {host}: its addresses were not checked")
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise RuntimeError("SafeFetcher never connects to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class SafeFetcher:
    """Fetches documents from other hosts under a :class:`FetchPolicy` (see the module docstring).

    ``resolver`` and ``network_backend`` are the seams to the network: tests inject a resolver
    that answers what they need and a backend that proves no refused address is ever dialled.
    ``ssl_context`` defaults to httpx's (certifi, honouring SSL_CERT_FILE); pass one to trust a
    private CA. Certificates are always verified against the URL's host name.

    One instance may serve many concurrent fetches: each fetch keeps its own connections and
    checked addresses, so nothing a fetch learnt is trusted by the next.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        resolver: Resolver = system_resolver,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self._resolve = resolver
        self._backend = network_backend or httpcore.AnyIOBackend()
        self._ssl_context = ssl_context or httpx.create_ssl_context()

    async def fetch(self, url: str, *, accept: str = DEFAULT_ACCEPT) -> Fetched:
        """GET ``url`` and return the body; raises :class:`FetchError` for anything refused or failed."""
        current = self._parse(url, url)
        pins: dict[str, tuple[str, ...]] = {}
        headers = [(b"Accept", accept.encode("ascii")), (b"Accept-Encoding", b"identity")]
        limit = self.policy.total_timeout
        try:
            async with asyncio.timeout(limit):
                async with self._pool(pins) as pool:
                    redirects = 0
                    while True:
                        pins[current.raw_host.decode("ascii")] = await self._checked_addresses(current)
                        async with pool.stream(
                            "GET", _core_url(current), headers=headers, extensions=self._extensions()
                        ) as response:
                            if response.status not in _REDIRECTS:
                                return await self._read(response, current)
                            location = _header(response, b"location")
                            if location is None:
                                raise FetchError(
                                    "status",
                                    str(current),
                                    f"{current} answered {response.status}, a redirect without a Location",
                                    status=response.status,
                                )
                            if redirects == self.policy.max_redirects:
                                raise FetchError(
                                    "redirects",
                                    str(current),
                                    f"{url} redirected more than {self.policy.max_redirects} times "
                                    f"(last from {current} to {location})",
                                )
                            redirects += 1
                            current = self._parse(location, str(current), base=current)
        except _TRANSPORT_FAILURES as exc:
            raise _failure(exc, current, limit) from None

    async def post(
        self, url: str, body: bytes, *, headers: Mapping[str, str] | None = None, content_type: str = "application/json"
    ) -> Fetched:
        """POST ``body`` to ``url`` once, under the same checks and deadline as :meth:`fetch`.

        A redirect is not followed (it fails with reason ``"status"`` and its status): the body
        goes to the host the caller named or nowhere. Any other status than 2xx fails the same
        way. The answer's body matters little to a sender, so it is read up to
        ``max_body_bytes`` and cut there rather than refused.
        """
        current = self._parse(url, url)
        pins: dict[str, tuple[str, ...]] = {}
        sent = [(b"Content-Type", content_type.encode("ascii")), (b"Accept-Encoding", b"identity")]
        sent += [(name.encode("ascii"), value.encode("ascii")) for name, value in (headers or {}).items()]
        limit = self.policy.total_timeout
        try:
            async with asyncio.timeout(limit):
                async with self._pool(pins) as pool:
                    pins[current.raw_host.decode("ascii")] = await self._checked_addresses(current)
                    async with pool.stream(
                        "POST", _core_url(current), headers=sent, content=body, extensions=self._extensions()
                    ) as response:
                        if not 200 <= response.status < 300:
                            followed = "; redirects are not followed for POST" if response.status in _REDIRECTS else ""
                            raise FetchError(
                                "status", str(current), f"{current} answered HTTP {response.status}{followed}", status=response.status
                            )
                        return Fetched(
                            url=str(current),
                            status=response.status,
                            content_type=_header(response, b"content-type") or "",
                            body=await _read_at_most(response, self.policy.max_body_bytes),
                        )
        except _TRANSPORT_FAILURES as exc:
            raise _failure(exc, current, limit) from None

    def _pool(self, pins: Mapping[str, Sequence[str]]) -> httpcore.AsyncConnectionPool:
        return httpcore.AsyncConnectionPool(ssl_context=self._ssl_context, network_backend=_PinnedBackend(self._backend, pins))

    def _extensions(self) -> dict[str, Any]:
        limit = self.policy.total_timeout
        return {"timeout": {"connect": limit, "read": limit, "write": limit, "pool": limit}}

    def _parse(self, text: str, named_as: str, *, base: httpx.URL | None = None) -> httpx.URL:
        return _parse(text, named_as, self.policy, base=base)

    async def _checked_addresses(self, url: httpx.URL) -> tuple[str, ...]:
        """Every address the URL's host stands for, all checked against the policy, in resolver order."""
        host = url.raw_host.decode("ascii")
        try:
            literal = _literal_address(host)
        except ValueError:
            message = f"{url} names {host}, which is neither a host name nor an IP address"
            raise FetchError("url", str(url), message) from None
        if literal is not None:
            candidates: list[IPAddress] = [literal]
        elif not _HOST_NAME.fullmatch(host):
            raise FetchError("url", str(url), f"{url} names {host!r}, which is not a valid host name")
        else:
            try:
                answers = await self._resolve(host, _port(url))
            except OSError as exc:
                raise FetchError("dns", str(url), f"could not resolve {host} for {url}: {exc}") from None
            if not answers:
                raise FetchError("dns", str(url), f"{host} has no addresses (fetching {url})")
            candidates = [ip_address(answer) for answer in answers]
        for address in candidates:
            why = address_refusal(address, self.policy)
            if why is not None:
                named = f"{host} is" if literal is not None else f"{host} resolves to {address}, which is"
                raise FetchError("address", str(url), f"refusing to fetch {url}: {named} a {why} address")
        return tuple(dict.fromkeys(str(_connectable(address)) for address in candidates))

    async def _read(self, response: httpcore.Response, url: httpx.URL) -> Fetched:
        if not 200 <= response.status < 300:
            raise FetchError("status", str(url), f"{url} answered HTTP {response.status}", status=response.status)
        encoding = (_header(response, b"content-encoding") or "identity").strip().lower()
        if encoding != "identity":
            raise FetchError("encoding", str(url), f"{url} sent a {encoding}-encoded body; we asked for identity")
        limit = self.policy.max_body_bytes
        declared = _header(response, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise FetchError("too_large", str(url), f"{url} announced {declared} bytes; the limit is {limit}")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_stream():
            size += len(chunk)
            if size > limit:
                raise FetchError("too_large", str(url), f"{url} sent more than {limit} bytes; stopped reading")
            chunks.append(chunk)
        return Fetched(
            url=str(url),
            status=response.status,
            content_type=_header(response, b"content-type") or "",
            body=b"".join(chunks),
        )


_TRANSPORT_FAILURES = (TimeoutError, httpcore.TimeoutException, httpcore.ConnectError, httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol)


def _failure(exc: Exception, url: httpx.URL, limit: float) -> FetchError:
    """The FetchError for a transport failure while fetching ``url``."""
    if isinstance(exc, TimeoutError):
        return FetchError("timeout", str(url), f"fetching {url} took longer than {limit} s; gave up")
    if isinstance(exc, httpcore.TimeoutException):
        return FetchError("timeout", str(url), f"fetching {url} timed out ({_describe(exc)})")
    if isinstance(exc, httpcore.ConnectError):
        return FetchError("connect", str(url), f"could not connect to {url}: {_describe(exc)}")
    return FetchError("network", str(url), f"fetching {url} failed: {_describe(exc)}")


async def _read_at_most(response: httpcore.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_stream():
        chunks.append(chunk[: limit - size])
        size += len(chunks[-1])
        if size >= limit:
            break
    return b"".join(chunks)


def _port(url: httpx.URL) -> int:
    return url.port if url.port is not None else _DEFAULT_PORTS[url.scheme]


def _core_url(url: httpx.URL) -> httpcore.URL:
    return httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path)


def _header(response: httpcore.Response, name: bytes) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _describe(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
