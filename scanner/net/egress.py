"""The egress policy: may this URL be fetched, and may this address be connected to?

Every URL pkscan fetches comes, directly or through a link or redirect, from the people it
investigates, so every fetch path (Scrapy through `scanner.crawl.egress`, the pollers, ``reverify``
and ``analyze`` through `scanner.net.http`) asks this one module:

- `EgressPolicy.check_url` before a request is sent (and for every redirect hop): ``http``/``https``
  only; ``localhost`` and ``*.localhost`` refused; an IP literal in any spelling (``2130706433``,
  ``0x7f.1``, ``0177.0.0.1``, ``127.1``, ``[::1]``, ``[::ffff:127.0.0.1]``) decoded as a resolver
  would and refused when internal;
- `EgressPolicy.resolve` at connect time: every address a name resolves to is checked, and the
  connection is made to one of those checked addresses (so DNS pointing an allowed name at
  ``127.0.0.1`` is refused, and nothing resolves the name a second time);
- `EgressPolicy.check_proxy`: with an HTTP proxy (the environment's, or a vantage point's:
  `scanner.net.vantage`) the proxy resolves target names, so only the proxy's own address is checked
  (against ``egress.proxy_networks``); IP literals and ``localhost`` in the target URL are still
  refused by `check_url`. A refusal never repeats the proxy's credentials.

Internal means loopback, private (RFC 1918, fc00::/7), link-local (incl. the 169.254.169.254 cloud
metadata service), shared (100.64.0.0/10), multicast, unspecified, and every other reserved or
special-purpose range (documentation, benchmarking, 240/4, broadcast ...). IPv4 addresses embedded
in IPv6 (mapped, 6to4, NAT64, Teredo) are judged by the IPv4 address.

Deliberate exceptions are configuration (``egress`` in settings.yaml, `scanner.config.EgressSettings`),
never code: ``allow_networks`` (a lab network), ``proxy_networks`` (the demo's proxy on 127.0.0.1),
``static_hosts`` (fixed answers looked up before DNS).
"""

from __future__ import annotations

import ipaddress
import socket
import unicodedata
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scanner.net.vantage import redact_proxy

if TYPE_CHECKING:
    from scanner.config import EgressSettings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], list[str]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10")
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


class EgressRefused(Exception):
    """A fetch the policy refuses. ``reason`` is a short category for statistics (``loopback``,
    ``scheme``, ``private`` ...); str() names the URL and why, e.g.
    ``egress refused: http://2130706433/: loopback address 127.0.0.1``."""

    def __init__(self, url: str, reason: str, detail: str):
        self.url = url
        self.reason = reason
        self.detail = detail
        super().__init__(f"egress refused: {url}: {detail}")


def _part(text: str) -> int | None:
    """One part of an IPv4 literal as inet_aton and browsers read it: 0x.. hex, 0.. octal, else decimal."""
    try:
        if text[:2].lower() == "0x":
            return int(text[2:] or "0", 16)
        if len(text) > 1 and text[0] == "0":
            return int(text[1:], 8)
        return int(text, 10) if text.isdigit() else None
    except ValueError:
        return None


def parse_ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """``127.1``, ``0x7f.1``, ``0177.0.0.1``, ``2130706433`` ... -> the address; None if not numeric.

    Raises ValueError for a host that looks numeric but is no valid address (``1.2.3.4.5``,
    ``999.1``): a resolver might still read something into it, so the caller refuses it.
    """
    parts = host.split(".")
    if parts and parts[-1] == "":
        parts = parts[:-1]  # "127.0.0.1." is 127.0.0.1
    if not parts or _part(parts[-1]) is None:
        return None  # a name (the last label is not a number)
    numbers = [_part(p) for p in parts]
    if len(numbers) > 4 or any(n is None for n in numbers):
        raise ValueError(f"malformed numeric host {host!r}")
    values = [n for n in numbers if n is not None]
    *head, last = values
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(values)):
        raise ValueError(f"malformed numeric host {host!r}")
    value = last
    for index, n in enumerate(head):
        value += n << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def parse_ip_literal(host: str) -> IPAddress | None:
    """An IP literal in any spelling (IPv6 with or without brackets and zone), else None."""
    host = host.strip("[]")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise ValueError(f"malformed IPv6 host {host!r}") from None
    return parse_ipv4_literal(host)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64) or int(ip) >> 32 == 0 and int(ip) > 1:
        # NAT64, and the deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def classify(ip: IPAddress) -> str | None:
    """Why an address is internal (``loopback``, ``private`` ...), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return classify(embedded)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip in _SHARED:
        return "shared"
    if ip.is_multicast:
        return "multicast"
    if any(ip.version == net.version and ip in net for net in _PRIVATE):
        return "private"
    if ip.is_reserved or ip.is_private or not ip.is_global:
        return "reserved"
    return None


# The URL standard's forbidden domain code points (besides controls): no browser fetches a host
# holding one, and a control character in a host reached our run summaries and the officer's terminal.
_FORBIDDEN_IN_HOST = frozenset(" #%/:<>?@[\\]^|")


def _forbidden_in_host(host: str) -> str | None:
    """The first character no host name may hold, described, or None."""
    for char in host:
        if char in _FORBIDDEN_IN_HOST or unicodedata.category(char) == "Cc":
            return f"U+{ord(char):04X}" + ("" if char.isprintable() else " (a control character)")
    return None


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost") or host == "localhost.localdomain"


def _system_resolver(host: str) -> list[str]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class Target:
    """A URL the policy let through: where it will connect (unless a proxy carries it)."""

    url: str
    scheme: str
    host: str
    port: int
    ip: IPAddress | None  # the IP literal, when the host is one


@dataclass(frozen=True)
class EgressPolicy:
    allow_networks: tuple[IPNetwork, ...] = ()
    proxy_networks: tuple[IPNetwork, ...] = ()
    static_hosts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    resolver: Resolver = _system_resolver

    @classmethod
    def from_settings(cls, egress: EgressSettings, resolver: Resolver | None = None) -> EgressPolicy:
        return cls(
            allow_networks=tuple(egress.allow_networks),
            proxy_networks=tuple(egress.proxy_networks),
            static_hosts={
                name: tuple(str(a) for a in addresses) for name, addresses in egress.static_hosts.items()
            },
            resolver=resolver or _system_resolver,
        )

    # -- addresses

    def _allowed(self, ip: IPAddress, networks: Iterable[IPNetwork]) -> bool:
        return any(ip.version == net.version and ip in net for net in networks)

    def check_address(self, ip: IPAddress, url: str, *, proxy: bool = False) -> None:
        """Refuse an internal address unless configured as an exception."""
        kind = classify(ip)
        if kind is None or self._allowed(ip, self.allow_networks):
            return
        if proxy and self._allowed(ip, self.proxy_networks):
            return
        what = "proxy at " if proxy else ""
        raise EgressRefused(
            url,
            kind,
            f"{what}{kind} address {ip} (allow it in settings.yaml egress: "
            f"{'proxy_networks' if proxy else 'allow_networks'})",
        )

    # -- URLs

    def check_url(self, url: str) -> Target:
        """Refuse a URL whatever resolves it: scheme, missing host, localhost, internal IP literal."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise EgressRefused(url, "malformed", f"malformed URL ({exc})") from None
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise EgressRefused(
                url, "scheme", f"scheme {scheme or '(none)'!r} is not fetched (http and https only)"
            )
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise EgressRefused(url, "malformed", "no host in URL")
        try:
            ip = parse_ip_literal(host)
        except ValueError as exc:
            raise EgressRefused(url, "malformed", str(exc)) from None
        if ip is None and (bad := _forbidden_in_host(host)):
            raise EgressRefused(url, "malformed", f"the host holds {bad}, which no host name may hold")
        if ip is not None:
            self.check_address(ip, url)
        elif _is_localhost(host):
            if not self._allowed(ipaddress.ip_address("127.0.0.1"), self.allow_networks):
                raise EgressRefused(url, "loopback", f"host {host!r} is this machine")
        return Target(url, scheme, host, port or DEFAULT_PORTS[scheme], ip)

    def check_redirect(self, source: str, location: str, *, cross_host: bool) -> Target:
        """One redirect hop: the new URL passes `check_url`, and changes host only where allowed."""
        target = self.check_url(location)
        if not cross_host and (urlsplit(source).hostname or "").lower().rstrip(".") != target.host:
            raise EgressRefused(
                location, "cross-host-redirect",
                f"redirect from {source} to another host (API pollers stay on their host; "
                "settings.yaml egress: api_cross_host_redirects)",
            )  # fmt: skip
        return target

    # -- names

    def resolve(self, host: str, url: str = "", *, proxy: bool = False) -> list[str]:
        """Every address of ``host`` (static_hosts first, then DNS), each checked; connect to one of these.

        A name with any internal address is refused as a whole: a resolver may return them in any order.
        """
        where = url or host
        name = host.strip("[]").rstrip(".").lower()
        try:
            literal = parse_ip_literal(name)
        except ValueError as exc:
            raise EgressRefused(where, "malformed", str(exc)) from None
        if literal is not None:
            self.check_address(literal, where, proxy=proxy)
            return [str(literal)]
        if _is_localhost(name):
            addresses = ["127.0.0.1"]
        elif name in self.static_hosts:
            addresses = list(self.static_hosts[name])
        else:
            try:
                addresses = self.resolver(name)
            except (OSError, UnicodeError) as exc:
                raise EgressUnresolvable(where, f"cannot resolve {name!r} ({exc})") from None
        if not addresses:
            raise EgressUnresolvable(where, f"{name!r} has no address")
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            try:
                self.check_address(ip, where, proxy=proxy)
            except EgressRefused as exc:
                raise EgressRefused(where, exc.reason, f"{name!r} resolves to {exc.detail}") from None
        return addresses

    # -- proxies

    def check_proxy(self, proxy_url: str) -> None:
        """The proxy itself: an IP literal is checked now, a name when it is resolved (`resolve` with proxy=True).

        The refusal names the proxy without its credentials (they are never logged)."""
        if "://" not in proxy_url:
            proxy_url = f"http://{proxy_url}"
        shown = redact_proxy(proxy_url)
        host = (urlsplit(proxy_url).hostname or "").lower()
        try:
            ip = parse_ip_literal(host)
        except ValueError as exc:
            raise EgressRefused(shown, "malformed", str(exc)) from None
        if ip is not None:
            self.check_address(ip, shown, proxy=True)
        elif _is_localhost(host):
            self.check_address(ipaddress.ip_address("127.0.0.1"), shown, proxy=True)


class EgressUnresolvable(EgressRefused):
    """The name did not resolve: an ordinary network failure, not an attack (retried like one)."""

    def __init__(self, url: str, detail: str):
        super().__init__(url, "unresolvable", detail)


def environment_proxy(url: str, proxies: dict[str, str] | None = None) -> str | None:
    """The proxy the environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) names for ``url``, as requests and
    Scrapy pick it. ``proxies``: the environment's proxies read once by the caller (reading them
    walks the whole environment, too slow to repeat per request; Scrapy also reads them once)."""
    scheme = urlsplit(url).scheme.lower()
    proxies = urllib.request.getproxies_environment() if proxies is None else proxies
    proxy = proxies.get(scheme)
    if not proxy:
        return None
    host = urlsplit(url).hostname or ""
    if urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxy


def proxy_hosts(extra: Iterable[str] = ()) -> frozenset[str]:
    """Host names of the proxies the environment names, and of ``extra`` proxy URLs (vantage points):
    resolved as proxies, not as targets."""
    proxies = urllib.request.getproxies_environment()
    urls = [v for k, v in proxies.items() if k != "no" and v] + list(extra)
    return frozenset((urlsplit(v if "://" in v else f"http://{v}").hostname or "").lower() for v in urls)
