"""Where the server is reached, and which pages may talk to it.

A browser sends ``Origin`` with every websocket handshake: the page the
socket was opened from.  Any web page a player has open could otherwise
start games on the trainer's laptop (a websocket is not bound by the
same-origin policy), so :func:`origin_allowed` accepts only the server's own
pages: an ``Origin`` equal to the address the request was sent to (its
``Host``) when that address names this server (an IP address, ``localhost``
or this machine's name: not a domain an attacker could point here, DNS
rebinding), or the ``--public-url``.  A handshake with no ``Origin`` is not
from a browser (browsers always send one) and is allowed, for tools.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from functools import cache
from urllib.parse import urlsplit

DEFAULT_HOST = "127.0.0.1"
"""Listen on this machine only unless ``--host`` says otherwise."""

DEFAULT_PORT = 8000
"""The port ``posim serve`` listens on by default."""

ALL_INTERFACES = ("0.0.0.0", "::", "")
"""Host values that listen on every network interface."""

_SAFE_HOST = re.compile(r"^[A-Za-z0-9.\-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$")


def url(host: str, port: int) -> str:
    """``http://host:port``, with brackets around an IPv6 address."""
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    return f"http://{host}:{port}"


def _network_addresses() -> list[str]:
    """This machine's address on the local network (best effort; may be empty).

    Connecting a UDP socket sends nothing; it only asks the kernel which
    interface would be used.
    """
    addresses: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))
        address = probe.getsockname()[0]
        if not ipaddress.ip_address(address).is_loopback:
            addresses.append(address)
    return addresses


def reach_urls(host: str, port: int) -> list[str]:
    """The addresses to type in a browser to reach a server on ``host:port``.

    A server on every interface (``0.0.0.0``) is reachable on this machine as
    ``127.0.0.1`` and from the room at this machine's network address and name.
    """
    if host not in ALL_INTERFACES:
        return [url(host, port)]
    urls = [url("127.0.0.1", port)]
    urls += [url(address, port) for address in _network_addresses()]
    with contextlib.suppress(OSError):
        name = socket.gethostname()
        if name and name != "localhost":
            urls.append(url(name, port))
    return list(dict.fromkeys(urls))


def public_base_url(request_host: str | None, fallback: str, scheme: str = "http") -> str:
    """The base URL for the page's links: the address the browser used, if well-formed."""
    if request_host and _SAFE_HOST.match(request_host):
        return f"{scheme}://{request_host}"
    return fallback


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@cache
def _own_names() -> frozenset[str]:
    """This machine's names (lower case), with and without their domain and ``.local``."""
    names = {"localhost"}
    with contextlib.suppress(OSError):
        for name in (socket.gethostname(), socket.getfqdn()):
            if name:
                name = name.lower().rstrip(".")
                short = name.split(".", 1)[0]
                names.update({name, short, f"{short}.local"})
    return frozenset(names)


def _host_part(netloc: str) -> str:
    """``host`` of ``host:port`` or ``[v6]:port``, lower case, without brackets."""
    return (urlsplit(f"//{netloc}").hostname or "").lower()


def names_this_server(netloc: str, listen_host: str = DEFAULT_HOST) -> bool:
    """Whether ``netloc`` (a ``Host`` header) is an address no other site can claim.

    An IP address, ``localhost``, this machine's name, or the ``--host`` name.
    """
    host = _host_part(netloc)
    if not host:
        return False
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return True
    return host in _own_names() or host == listen_host.lower()


def origin_allowed(
    origin: str | None,
    request_host: str | None,
    public_url: str | None = None,
    listen_host: str = DEFAULT_HOST,
) -> bool:
    """Whether a websocket handshake with this ``Origin`` may start a game (see the module)."""
    if origin is None:
        return True
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False  # "null" (a sandboxed frame, a file) or nonsense
    netloc = parts.netloc.lower()
    if public_url:
        public = urlsplit(public_url)
        if (public.scheme, public.netloc.lower()) == (parts.scheme, netloc):
            return True
    if not request_host or netloc != request_host.strip().lower():
        return False
    return names_this_server(netloc, listen_host)
