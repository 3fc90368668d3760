"""Address safety: a webhook goes only to a globally routable address, the one it checked.

A subscription's URL is checked when it is saved and again before each delivery. At
delivery the host is resolved once and the connection goes to the address that passed,
with the URL's host name in the Host header, the TLS SNI and the certificate check: a
name re-pointed at an internal address after the check (DNS rebinding) gets nothing.
Redirects are never followed.

`settings.WEBHOOK_ALLOW_PRIVATE_URLS` (tests only) also allows http:// and addresses
that are not global; everything else, including the pinned connection, stays the same.
"""

import re
import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import quote, urlsplit

import certifi
import idna
import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError

IPAddress = IPv4Address | IPv6Address

# Special-purpose blocks that IANA lists as not globally reachable but Python 3.11's
# `is_global` still counts as global (later Pythons caught up).
_NOT_GLOBAL = tuple(
    ip_network(block)
    for block in (
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890)
        "192.88.99.0/24",  # 6to4 relay anycast, deprecated (RFC 7526)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100:0:0:1::/64",  # dummy prefix (RFC 9780)
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # segment routing SIDs (RFC 9602)
        "fec0::/10",  # site-local, deprecated (RFC 3879)
    )
)
_NAT64 = ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_IPV4_COMPATIBLE = ip_network("::/96")  # deprecated (RFC 4291), last 32 bits too
# The WHATWG URL standard reads a host whose last label is a number as an IPv4 address.
_NUMERIC_LABEL = re.compile(r"(?:[0-9]+|0x[0-9a-f]*)", re.IGNORECASE)
_HOST_NAME = re.compile(r"[a-z0-9.-]+")


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv4-mapped, 6to4, NAT64 or IPv4-compatible address reaches."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address in _NAT64 or address in _IPV4_COMPATIBLE:
        return IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def is_global(address: IPAddress) -> bool:
    """Globally routable, judged on the IPv4 address that an IPv6 form wraps."""
    if isinstance(address, IPv6Address):
        if address.teredo:
            return False  # 2001::/32 is not globally reachable, whatever client it names
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_global(embedded)
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not address.is_link_local
        and not any(address in block for block in _NOT_GLOBAL)
    )


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` resolves to: the delivery's one DNS lookup."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        infos = []
    if not infos:
        raise ValidationError({"url": f"The host {host} cannot be resolved."})
    # An IPv6 answer may carry a zone ("fe80::1%eth0"); the address is what is judged.
    return list(dict.fromkeys(ip_address(info[4][0].split("%", 1)[0]) for info in infos))


@dataclass(frozen=True)
class WebhookUrl:
    """A webhook URL taken apart the one way Accord reads it."""

    scheme: str
    host: str  # ASCII: a host name (IDNA) or an IP address
    port: int
    explicit_port: bool
    target: str  # path and query, percent-encoded
    ip: IPAddress | None  # when the host is an IP address

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if isinstance(self.ip, IPv6Address) else self.host
        return f"{host}:{self.port}" if self.explicit_port else host


def parse_webhook_url(url: str) -> WebhookUrl:
    """The URL's parts, or a ValidationError for anything Accord will not post to."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    try:
        parts = urlsplit(url)
        explicit_port = parts.port
    except ValueError:
        parts = None
    if parts is None or explicit_port == 0:
        raise ValidationError({"url": "This is not a valid URL."})
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise ValidationError({"url": "Webhook URLs must use https://."})
    if not parts.hostname:
        raise ValidationError({"url": "The URL has no host."})
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValidationError({"url": "Put credentials in the secret, not in the URL."})
    host = parts.hostname
    if host.endswith("."):
        raise ValidationError({"url": "Write the host without a trailing dot."})
    try:
        ip = ip_address(host)
    except ValueError:
        ip = None
    if ip is None:
        try:
            # Unicode names to ASCII as browsers do (UTS #46: "①②⑦。0。0。1" is 127.0.0.1).
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            host = ""
        if not _HOST_NAME.fullmatch(host):
            raise ValidationError({"url": f"{parts.hostname} is not a valid host name."})
        try:
            ip = IPv4Address(host)
        except ValueError:
            if _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
                # 2130706433, 0x7f.1, 017700000001, 127.1: IPv4 spellings that resolvers
                # and URL parsers read differently.
                raise ValidationError(
                    {"url": "Write an IP address as four decimal numbers, like 192.0.2.1."}
                ) from None
    if isinstance(ip, IPv6Address) and ip.scope_id:
        raise ValidationError({"url": "An IPv6 address with a zone is not a webhook address."})
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    return WebhookUrl(
        scheme=parts.scheme,
        host=str(ip) if ip is not None else host,
        port=explicit_port or (443 if parts.scheme == "https" else 80),
        explicit_port=explicit_port is not None,
        target=path + (f"?{query}" if query else ""),
        ip=ip,
    )


def _checked_addresses(url: WebhookUrl) -> list[IPAddress]:
    """The addresses the URL reaches (resolved once), all of them global."""
    addresses = [url.ip] if url.ip is not None else resolve(url.host, url.port)
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS and not all(map(is_global, addresses)):
        raise ValidationError(
            {"url": "Webhooks go only to public addresses; this host is private or reserved."}
        )
    return addresses


def validate_webhook_url(url: str) -> None:
    """At save: the URL is well formed and every address its host resolves to is global."""
    parsed = parse_webhook_url(url)
    if not settings.WEBHOOK_ALLOW_PRIVATE_URLS:
        _checked_addresses(parsed)


@dataclass(frozen=True)
class Destination:
    """Where one delivery goes: the URL, and the checked address the connection uses."""

    url: WebhookUrl
    address: IPAddress

    def post(self, body: bytes, *, headers: dict, timeout: float) -> tuple[int, bytes]:
        """POST to the checked address; the status and the first 500 bytes of the answer.

        The host name travels in the Host header and, over https, as SNI and the name the
        certificate must match. A redirect is returned as it is, never followed.
        """
        url = self.url
        options = {"timeout": urllib3.Timeout(connect=timeout, read=timeout), "retries": False}
        if url.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                str(self.address),
                url.port,
                server_hostname=url.host,
                assert_hostname=url.host,
                cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
                **options,
            )
        else:
            pool = urllib3.HTTPConnectionPool(str(self.address), url.port, **options)
        with pool:
            response = pool.urlopen(
                "POST",
                url.target,
                body=body,
                headers={**headers, "Host": url.host_header},
                redirect=False,
                assert_same_host=False,
                preload_content=False,  # the receiver is not trusted: read only the start
            )
            try:
                return response.status, response.read(500)
            finally:
                response.close()


def webhook_destination(url: str) -> Destination:
    """At delivery: the URL checked again, its host resolved once, the address to use."""
    parsed = parse_webhook_url(url)
    return Destination(url=parsed, address=_checked_addresses(parsed)[0])
