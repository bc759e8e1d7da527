"""The suite's own promise: no test reaches the internet (see tests/no_internet.py)."""

from __future__ import annotations

import socket

import pytest

from tests.no_internet import InternetRefused


def test_a_connection_beyond_loopback_is_refused() -> None:
    # 192.0.2.1 is TEST-NET-1: never routed, so even without the guard nothing would leave.
    with socket.socket() as sock, pytest.raises(InternetRefused):
        sock.connect(("192.0.2.1", 80))
    with socket.socket() as sock, pytest.raises(InternetRefused):
        sock.connect_ex(("192.0.2.1", 80))


def test_loopback_stays_open() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.socket() as client:
            client.connect(server.getsockname())
