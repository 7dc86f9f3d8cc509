"""A5 — two app instances (two gunicorn workers, two machines) count failures once, in shared storage.

The per-IP limit lives in Redis (a real redis-server on loopback); the per-account throttle lives in the
database both instances use.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from config import Settings
from portal.app import create_app
from portal.auth.testing import post_sign_in

WRONG = "dit is niet het wachtwoord"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed: A5 needs a real shared store")
    port = _free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_A5_two_instances_share_the_ip_limit_and_the_account_throttle(
    settings: Settings, redis_url: str, account_factory
) -> None:  # type: ignore[no-untyped-def]
    shared = settings.replace(ratelimit_storage_url=redis_url)
    first, second = create_app(shared), create_app(shared)
    clients = [first.test_client(), second.test_client()]
    statuses = [
        post_sign_in(clients[n % 2], f"stranger{n}@example.org", WRONG, ip="198.51.100.77").status_code
        for n in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    _, creds = account_factory()
    for n in range(5):
        assert (
            post_sign_in(clients[n % 2], creds.member_number, WRONG, ip=f"203.0.113.{n + 1}").status_code
            == 200
        )
    assert post_sign_in(clients[1], creds.member_number, creds.password, ip="203.0.113.99").status_code == 429
    for app in (first, second):
        app.extensions["portal"].database.dispose()
