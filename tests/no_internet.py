"""No test reaches the internet: in the test process, an IP connection to anything but
loopback fails loudly. The bot run as a process is pointed at 127.0.0.1 by its tests."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest


class InternetRefused(AssertionError):
    """A test tried to reach an address beyond this machine."""


def is_loopback(address: object) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False  # a host name: reaching it would need a lookup, i.e. the network


def refuse_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard `socket.socket.connect` and `connect_ex` (asyncio connects through them too)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def refuse(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address):
            raise InternetRefused(f"a test tried to connect to {address!r}")

    def connect(sock: socket.socket, address: Any) -> None:
        refuse(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        refuse(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
