"""The one bind rule of every server rldg starts (the sim robot server, `rldg view`): loopback only,
unless the user asks for another address with `--allow-remote`."""

from __future__ import annotations

import ipaddress

from rldg_data.errors import ConfigError, UnsafeInputError


def is_loopback(host: str) -> bool:
    """True for "localhost" and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, port: int, allow_remote: bool, risk: str) -> None:
    """Refuses a non-loopback `host` without `allow_remote` (saying `risk`: what anyone on that
    network could do) and a port outside 0-65535."""
    if not allow_remote and not is_loopback(host):
        raise UnsafeInputError(f"refusing to serve on {host!r}: anyone on that network could {risk}; "
                               f"bind 127.0.0.1 or pass --allow-remote")
    if not 0 <= port < 65536:
        raise ConfigError(f"port {port} is not a TCP port")
