"""`make demo`: migrate, start the CRM simulator and a mail catcher, pull, create demo accounts, serve.

Everything listens on loopback only; Ctrl-C stops all of it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import requests

from config import load_settings
from crm_sync.composition import make_crm_port
from crm_sync.pull import pull_everything
from portal.app import create_app
from portal.core import schema
from portal.core.mailcatcher import MailCatcher

DEMO_ENVIRONMENT = {
    "PORTAL_ENV": "development",
    "PORTAL_CRM_URL": "http://127.0.0.1:8765",
    "PORTAL_CRM_API_KEY": "demo-key",
    "PORTAL_SMTP_HOST": "127.0.0.1",
    "PORTAL_SMTP_PORT": "8025",
    "PORTAL_RUN_SCHEDULER_IN_PROCESS": "true",
}
DEMO_MEMBERS = int(os.environ.get("DEMO_MEMBERS", "5000"))
DEMO_SEED = 66


def refuse_taken_ports(ports: list[int]) -> None:
    """Stop before starting anything when a port is taken (an earlier demo still running, say):
    otherwise the portal would quietly talk to whatever answers there."""
    for port in ports:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(
                    f"port {port} on 127.0.0.1 is in use (an earlier `make demo`?); stop that program first"
                )


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # `kill` stops the demo like Ctrl-C: the simulator and catcher stop too


def _wait_for(url: str, *, seconds: float, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the CRM simulator stopped (exit {process.returncode}); see its output above")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the CRM simulator did not answer at {url} within {seconds:.0f} s")


def main() -> None:
    """Run the whole demo in the foreground."""
    for name, value in DEMO_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    settings = load_settings()
    instance = settings.instance_path
    crm_port = settings.crm_url.rsplit(":", 1)[-1]
    portal_port = urlsplit(settings.base_url).port or 5000  # PORTAL_BASE_URL=http://127.0.0.1:5050 moves it
    refuse_taken_ports([int(crm_port), settings.smtp_port, portal_port])
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"Ledenportaal demo — instance folder {instance}")
    schema.upgrade(settings.database_url)
    print(f"  database      {settings.database_url} (migrated)")

    simulator_db = instance / f"crm-simulator-{DEMO_MEMBERS}-{DEMO_SEED}.sqlite3"
    simulator = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "crm_sync.simulator",
            "--db",
            str(simulator_db),
            "--members",
            str(DEMO_MEMBERS),
            "--seed",
            str(DEMO_SEED),
            "--port",
            crm_port,
            "--api-key",
            settings.crm_api_key,
        ],
    )
    catcher = MailCatcher(host=settings.smtp_host, port=settings.smtp_port, folder=instance / "mail")
    try:
        _wait_for(f"{settings.crm_url}/_sim/health", seconds=300, process=simulator)
        print(f"  CRM simulator {settings.crm_url} (CiviCRM APIv4, {DEMO_MEMBERS} members, seed {DEMO_SEED})")
        catcher.start()
        mail_address = f"smtp://{settings.smtp_host}:{settings.smtp_port}"
        print(f"  mail catcher  {mail_address} (messages in {instance / 'mail'})")
        app = create_app(settings)
        port = make_crm_port(settings)
        try:
            state = app.extensions["portal"]
            with app.app_context():  # subscribers (role grants, search index) run inside the app
                run = pull_everything(
                    state.database,
                    port,
                    max_removed_share=settings.pull_max_removed_share,
                    events=state.events,
                )
        finally:
            port.close()
        print(f"  first pull    {run.outcome.value} in {run.duration_seconds:.1f} s: {run.counts}")
        for hook in app.extensions.get("demo_setup", []):
            hook(app)
        accounts = instance / "demo_accounts.json"
        if accounts.exists():
            print(f"  demo accounts {accounts}")
        print(f"  portal        http://127.0.0.1:{portal_port}  (Ctrl-C stops everything)")
        app.run(host="127.0.0.1", port=portal_port, debug=False, use_reloader=False, threaded=True)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.terminate()
        try:
            simulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            simulator.kill()
        with contextlib.suppress(AssertionError, RuntimeError):  # it may never have started
            catcher.stop()
        print("Demo stopped.")


if __name__ == "__main__":
    main()
