"""Test support: run the simulator on a free loopback port for the duration of a test."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from crm_sync.simulator.churn import churn
from crm_sync.simulator.generator import generate
from crm_sync.simulator.server import QuietRequestHandler, SimulatorApp, make_app


@dataclass(frozen=True)
class SimulatorHandle:
    """A running simulator: where it listens and how to steer it."""

    url: str
    api_key: str
    db_path: Path
    app: SimulatorApp

    def set_faults(self, **settings: Any) -> dict[str, Any]:
        """Change faults (latency_ms, error_rate, rate_limit_retry_after, down); others stay."""
        return self.app.faults.update(settings)

    def reset_faults(self) -> None:
        """Remove every injected fault."""
        self.app.faults.update({"reset": True})

    def churn(self, percent: float, seed: int = 0) -> dict[str, int]:
        """Apply churn to `percent` % of the members; returns the counts per kind of change."""
        return churn(self.db_path, percent=percent, seed=seed)

    def requests(self, entity: str | None = None, action: str | None = None) -> list[dict[str, Any]]:
        """Return the write requests received (entity, action, params, status, time)."""
        return self.app.requests.entries(entity, action)

    def clear_requests(self) -> None:
        """Forget the recorded write requests."""
        self.app.requests.clear()


def cached_database(directory: str | Path, *, members: int, seed: int) -> Path:
    """Generate (once) a database named after its size and seed in `directory`."""
    path = Path(directory) / f"crm-sim-{members}-{seed}.sqlite"
    generate(path, members=members, seed=seed)
    return path


def copy_database(source: str | Path, target: str | Path) -> Path:
    """Copy a simulator database consistently (WAL included), e.g. one per writing test."""
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(str(source)) as src, sqlite3.connect(str(target)) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return Path(target)


@contextmanager
def running_simulator(
    db_path: str | Path, *, members: int = 300, seed: int = 1, api_key: str = "test-key"
) -> Iterator[SimulatorHandle]:
    """Generate the database if needed, serve it in a background thread, stop it on exit."""
    generate(db_path, members=members, seed=seed)
    app = make_app(db_path, api_key=api_key)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    # A short poll interval so stopping (once per test) does not wait half a second.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="crm-simulator", daemon=True)
    thread.start()
    try:
        yield SimulatorHandle(f"http://127.0.0.1:{server.server_port}", api_key, Path(db_path), app)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        app.close()
