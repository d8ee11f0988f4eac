"""The SSRF guard: the one way to fetch a tenant-supplied URL.

A URL a customer (or an agent) gives us must not reach our own network: the cloud
metadata service, the database, Redis, a neighbour's admin page. Every request made here:

* accepts only http and https;
* resolves the host once (`getaddrinfo`, or the `resolver` passed in) and refuses it when
  ANY of its addresses is private, loopback, link-local, site-local, multicast, reserved,
  unspecified, shared (CGNAT), not globally routable or a cloud metadata address, including
  IPv4 hidden inside IPv6 (mapped, 6to4, Teredo, NAT64);
* connects to the address it checked: the request goes to the IP, with the Host header
  and the TLS server name (SNI, certificate check) of the host name, so a DNS answer that
  changes between the check and the connect (rebinding) is never used;
* follows redirects itself (GET/HEAD only, at most `max_redirects`), and every hop goes
  through the same check; an Authorization header never follows to another origin;
* stops reading at `max_bytes` and gives up after `deadline_s` in all.

`ORION_SSRF_ALLOW_LOOPBACK` lets 127.0.0.0/8 through (the test suite and the local demo,
whose fakes listen on 127.0.0.1) and nothing else. Proxies from the environment are
ignored: a proxy would resolve the name itself.
"""

from __future__ import annotations

import ipaddress
import json as jsonlib
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

__all__ = [
    "FetchError",
    "Fetched",
    "Resolver",
    "UnsafeURL",
    "guarded_client",
    "guarded_request",
    "url_check",
]

Resolver = Callable[[str], list[str]]
IP = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 5
DEADLINE_S = 15.0
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 10.0
_REDIRECTS = {301, 302, 303, 307, 308}
_LOOPBACK_V4 = ipaddress.ip_network("127.0.0.0/8")
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
}
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class UnsafeURL(ValueError):
    """The URL is refused before any connection; `str()` is a sentence for the customer."""


class FetchError(Exception):
    """The site could not be reached or answered badly; `str()` says so in plain words."""


@dataclass(frozen=True)
class Fetched:
    """A finished response: `url` is the last hop, `peer` the address connected to."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes
    elapsed_ms: int
    truncated: bool = False
    peer: str = ""
    history: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.content.decode(_charset(self.headers), errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


def _charset(headers: httpx.Headers) -> str:
    for part in headers.get("content-type", "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value:
            try:
                "".encode(value.strip('"'))
            except LookupError:
                break
            return value.strip('"')
    return "utf-8"


def system_resolver(host: str) -> list[str]:
    """Every address `host` resolves to (TCP), in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"We could not find the address of {host}: check the spelling.") from exc
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def _embedded_v4(ip: IP) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _refusal(ip: IP, host: str, *, allow_loopback: bool) -> str | None:
    """Why `ip` may not be fetched, or None when it may."""
    if allow_loopback and isinstance(ip, ipaddress.IPv4Address) and ip in _LOOPBACK_V4:
        return None
    shown = host if host == str(ip) else f"{host} ({ip})"
    inner = _embedded_v4(ip)
    if ip in _METADATA or (inner is not None and inner in _METADATA):
        return f"{shown} is a cloud metadata address, which Orion never connects to."
    if inner is not None:
        reason = _refusal(inner, host, allow_loopback=False)
        if reason:
            return reason
    if ip.is_loopback or (inner is not None and inner.is_loopback):
        return f"{shown} points at this server itself, which Orion never connects to."
    site_local = isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local  # "global" to Python
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or site_local or not ip.is_global:
        return (
            f"{shown} is a private or reserved network address, which Orion does not "
            "connect to. Use your website's public address."
        )
    return None


def _allow_loopback() -> bool:
    return bool(getattr(settings, "ORION_SSRF_ALLOW_LOOPBACK", False))


def _checked_addresses(url: httpx.URL, resolver: Resolver | None) -> list[IP]:
    if url.scheme not in ("http", "https"):
        raise UnsafeURL("Only http:// and https:// addresses can be used.")
    host = url.host
    if not host:
        raise UnsafeURL("The address has no host name.")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        ascii_host = url.raw_host.decode("ascii")
        try:
            addresses = [ipaddress.ip_address(a) for a in (resolver or system_resolver)(ascii_host)]
        except ValueError as exc:
            raise FetchError(f"We could not find the address of {host}.") from exc
    if not addresses:
        raise FetchError(f"We could not find the address of {host}: check the spelling.")
    allow = _allow_loopback()
    for ip in addresses:
        reason = _refusal(ip, host, allow_loopback=allow)
        if reason:
            raise UnsafeURL(reason)
    return addresses


def url_check(url: str, *, resolver: Resolver | None = None) -> list[str]:
    """Check `url` without fetching it: its addresses, or UnsafeURL / FetchError."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURL("This is not a valid web address.") from exc
    return [str(ip) for ip in _checked_addresses(parsed, resolver)]


def _pinned(request: httpx.Request, address: str) -> httpx.Request:
    """`request` sent to `address`, keeping the Host header and (https) the server name
    the certificate is checked against."""
    url = request.url
    extensions = dict(request.extensions)
    if url.scheme == "https" and url.host != address:
        extensions["sni_hostname"] = url.raw_host.decode("ascii")
    return httpx.Request(
        request.method,
        url.copy_with(host=address),
        headers=request.headers,  # carries Host: the original name
        stream=request.stream,
        extensions=extensions,
    )


class PinnedTransport(httpx.BaseTransport):
    """Checks every request's host and sends it to the checked address (see module doc)."""

    def __init__(
        self, *, resolver: Resolver | None = None, verify: ssl.SSLContext | bool = True
    ) -> None:
        self._resolver = resolver
        self._inner = httpx.HTTPTransport(verify=verify, trust_env=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Try the checked addresses in the resolver's order; only a failed connect (nothing
        sent yet) moves on to the next one."""
        *others, last = _checked_addresses(request.url, self._resolver)
        for address in others:
            try:
                return self._inner.handle_request(_pinned(request, str(address)))
            except httpx.ConnectError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc):
                    raise
        return self._inner.handle_request(_pinned(request, str(last)))

    def close(self) -> None:
        self._inner.close()


def guarded_client(
    *,
    resolver: Resolver | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    connect_timeout_s: float = CONNECT_TIMEOUT_S,
    read_timeout_s: float = READ_TIMEOUT_S,
    verify: ssl.SSLContext | bool = True,
) -> httpx.Client:
    """An httpx client whose every request is checked and pinned. It never follows
    redirects itself: `guarded_request` does, hop by hop. `verify`: the trust store for
    TLS (the default CAs unless a test brings its own)."""
    return httpx.Client(
        transport=PinnedTransport(resolver=resolver, verify=verify),
        follow_redirects=False,
        trust_env=False,
        auth=auth,
        headers={"User-Agent": "Orion-Agent/1.0", **(headers or {})},
        timeout=httpx.Timeout(read_timeout_s, connect=connect_timeout_s),
    )


def _within(timeout: httpx.Timeout, remaining: float) -> httpx.Timeout:
    """`timeout` with no phase longer than what is left of the deadline."""
    if remaining <= 0:
        raise FetchError("The website did not answer in time.")

    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cap(timeout.connect),
        read=cap(timeout.read),
        write=cap(timeout.write),
        pool=cap(timeout.pool),
    )


def _failure(exc: httpx.HTTPError) -> str:
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "The website's security certificate is not valid for its address."
    if isinstance(exc, httpx.RemoteProtocolError):
        return "The website closed the connection without a complete answer."
    if isinstance(exc, httpx.ConnectError):
        return "The website could not be reached (the connection failed)."
    return f"The website could not be reached ({type(exc).__name__})."


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


def _peer(response: httpx.Response) -> str:
    stream = response.extensions.get("network_stream")
    try:
        address = stream.get_extra_info("server_addr") if stream is not None else None
    except OSError:
        return ""
    return str(address[0]) if address else ""


def _read(response: httpx.Response, *, max_bytes: int, deadline: float) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise FetchError("The website took too long to send its page.")
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


def guarded_request(
    method: str,
    url: str,
    *,
    client: httpx.Client | None = None,
    resolver: Resolver | None = None,
    json: Any = None,
    params: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | tuple[str, str] | None = None,
    max_bytes: int = MAX_BYTES,
    max_redirects: int = MAX_REDIRECTS,
    deadline_s: float = DEADLINE_S,
) -> Fetched:
    """One request through the guard, redirects followed hop by hop (GET/HEAD).

    Raises UnsafeURL (refused, nothing sent to that hop) or FetchError (network, timeout,
    too many redirects). A response of any status is returned, not raised."""
    own = client is None
    client = client or guarded_client(resolver=resolver)
    started = time.monotonic()
    deadline = started + deadline_s
    history: list[str] = []
    try:
        current = httpx.URL(url, params=params) if params else httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURL("This is not a valid web address.") from exc
    first_origin = _origin(current)
    try:
        while True:
            request = client.build_request(
                method,
                current,
                json=json,
                headers=headers,
                timeout=_within(client.timeout, deadline - time.monotonic()),
            )
            hop_auth: Any = auth or httpx.USE_CLIENT_DEFAULT
            if _origin(current) != first_origin:  # credentials stay with their own site
                request.headers.pop("Authorization", None)
                hop_auth = None
            response = client.send(request, auth=hop_auth, stream=True, follow_redirects=False)
            try:
                location = response.headers.get("location")
                follow = method.upper() in ("GET", "HEAD") and response.status_code in _REDIRECTS
                if follow and location:
                    history.append(str(current))
                    if len(history) > max_redirects:
                        raise FetchError(f"The website redirected more than {max_redirects} times.")
                    current = current.join(location)
                    continue
                peer = _peer(response)
                content, truncated = _read(response, max_bytes=max_bytes, deadline=deadline)
            finally:
                response.close()
            return Fetched(
                url=str(current),
                status=response.status_code,
                headers=response.headers,
                content=content,
                elapsed_ms=int((time.monotonic() - started) * 1000),
                truncated=truncated,
                peer=peer,
                history=history,
            )
    except httpx.TimeoutException as exc:
        raise FetchError("The website did not answer in time.") from exc
    except httpx.InvalidURL as exc:
        raise UnsafeURL("The website redirected to an address that is not valid.") from exc
    except httpx.HTTPError as exc:
        raise FetchError(_failure(exc)) from exc
    finally:
        if own:
            client.close()
