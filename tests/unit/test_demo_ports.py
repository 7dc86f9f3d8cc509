"""`make demo` stops at once when a port it needs is taken, instead of talking to a stranger."""

from __future__ import annotations

import socket

import pytest

from portal.demo import refuse_taken_ports


def test_a_taken_port_stops_the_demo_with_a_clear_message() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(SystemExit, match=f"port {port} on 127.0.0.1 is in use"):
            refuse_taken_ports([port])


def test_free_ports_pass() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: nothing answers there
    refuse_taken_ports([port])
