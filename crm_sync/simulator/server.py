"""The WSGI app speaking CiviCRM's APIv4 REST dialect, plus the /_sim control endpoints."""

import hmac
import logging
import secrets
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from crm_sync.simulator.api4 import execute
from crm_sync.simulator.churn import churn
from crm_sync.simulator.errors import ApiError
from crm_sync.simulator.faults import Faults, RequestLog
from crm_sync.simulator.store import ConnectionPool, connect, read_meta

logger = logging.getLogger("crm_sync.simulator")

API_PREFIX = "/civicrm/ajax/api4/"
SECURITY_POST_ONLY = "SECURITY: All requests that modify the database must be http POST, not GET."
SECURITY_ALERT = "SECURITY ALERT: Ajax requests can only be issued by javascript clients, eg. CRM.api4()."
_LOOPBACK = ("127.", "::1", "::ffff:127.")


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status=status, headers=headers, mimetype="application/json")


def _generic_error(status: int, reason: str, where: str) -> Response:
    error_id = "-".join(secrets.token_hex(2) for _ in range(3))
    logger.warning("Error ID %s on %s: %s", error_id, where, reason)
    return _json(
        {
            "error_code": 0,
            "error_message": "Sorry an error occurred and your request was not "
            f"completed. (Error ID: {error_id})",
            "status": status,
        },
        status,
    )


class SimulatorApp:
    """A plain WSGI application serving one simulator database."""

    def __init__(self, db_path: str | Path, *, api_key: str) -> None:
        if not Path(db_path).is_file():
            raise FileNotFoundError(f"no simulator database at {db_path}; generate it first")
        self.db_path = str(db_path)
        self.api_key = api_key
        conn = connect(self.db_path)
        try:
            meta = read_meta(conn)
        finally:
            conn.close()
        self.members = int(meta.get("members", 0))
        self.seed = int(meta.get("seed", 0))
        self.pool = ConnectionPool(self.db_path)
        self.faults = Faults(self.seed)
        self.requests = RequestLog()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Route one WSGI request to the API, the control endpoints or a 404."""
        request = Request(environ)
        if request.path.startswith(API_PREFIX):
            response = self._api(request)
        elif request.path.startswith("/_sim/"):
            response = self._control(request)
        else:
            response = Response("Not Found", status=404, mimetype="text/plain")
        return response(environ, start_response)

    def close(self) -> None:
        """Release the database connections."""
        self.pool.close()

    def _api(self, request: Request) -> Response:
        where = request.path
        parts = request.path[len(API_PREFIX) :].split("/")
        outcome, retry_after = self.faults.decide()
        if outcome == "down":
            return _json({"status_code": 503, "error_message": "maintenance"}, 503)
        if outcome == "rate_limited":
            return _json(
                {"status_code": 429, "error_message": "Too Many Requests"},
                429,
                {"Retry-After": str(retry_after)},
            )
        if outcome == "error":
            return _generic_error(500, "injected error (error_rate)", where)
        credential = request.headers.get("X-Civi-Auth")
        if credential is None and request.headers.get("X-Requested-With") != "XMLHttpRequest":
            return _json({"error_code": 400, "error_message": SECURITY_ALERT}, 400)
        scheme, _, key = (credential or "").partition(" ")
        if scheme != "Bearer" or not hmac.compare_digest(key.encode(), self.api_key.encode()):
            return Response("HTTP 401 Invalid credential", status=401, mimetype="text/plain")
        if len(parts) != 2 or not all(parts):
            return _generic_error(404, f"no such API path {request.path!r}", where)
        entity, action = parts
        is_write = not action.startswith("get")
        if request.method not in ("GET", "POST") or (request.method == "GET" and is_write):
            self._record(is_write, entity, action, None, 405)
            return _json({"error_code": 0, "error_message": SECURITY_POST_ONLY, "status": 405}, 405)
        raw = request.form.get("params") if request.method == "POST" else None
        if raw is None:
            raw = request.args.get("params")
        try:
            params = orjson.loads(raw) if raw and raw.strip() else {}
        except orjson.JSONDecodeError as error:
            self._record(is_write, entity, action, raw, 500)
            return _generic_error(500, f"malformed JSON in params: {error}", where)
        if params == []:
            params = {}
        if not isinstance(params, dict):
            self._record(is_write, entity, action, params, 500)
            return _generic_error(500, "params must be a JSON object", where)
        try:
            with self.pool.connection() as conn:
                body = execute(conn, entity, action, params)
        except ApiError as error:
            self._record(is_write, entity, action, params, error.status)
            return _generic_error(error.status, error.reason, where)
        except sqlite3.Error as error:
            self._record(is_write, entity, action, params, 500)
            return _generic_error(500, f"database error: {error}", where)
        except (TypeError, ValueError, KeyError) as error:
            # Odd shapes (a list where an object belongs …) get CiviCRM's answer, not a traceback.
            self._record(is_write, entity, action, params, 500)
            return _generic_error(500, f"malformed params: {type(error).__name__}: {error}", where)
        if is_write and self.faults.take_fail_after_write():
            self._record(is_write, entity, action, params, 500)
            return _generic_error(500, "injected error after the write was applied", where)
        self._record(is_write, entity, action, params, 200)
        return _json(body)

    def _record(self, is_write: bool, entity: str, action: str, params: Any, status: int) -> None:
        if is_write:
            self.requests.record(entity, action, params, status)

    def _control(self, request: Request) -> Response:
        if not (request.remote_addr or "").startswith(_LOOPBACK):
            return _json({"error": "control endpoints answer on loopback only"}, 403)
        route = (request.method, request.path)
        try:
            if route == ("GET", "/_sim/health"):
                return _json({"members": self.members, "seed": self.seed})
            if route == ("GET", "/_sim/faults"):
                return _json(self.faults.snapshot())
            if route == ("POST", "/_sim/faults"):
                return _json(self.faults.update(_json_body(request)))
            if route == ("POST", "/_sim/churn"):
                body = _json_body(request)
                percent, seed = body.get("percent"), body.get("seed", 0)
                if (
                    isinstance(percent, bool)
                    or not isinstance(percent, (int, float))
                    or isinstance(seed, bool)
                    or not isinstance(seed, int)
                ):
                    raise ValueError("churn needs a numeric percent and an integer seed")
                return _json(churn(self.db_path, percent=float(percent), seed=seed))
            if route == ("GET", "/_sim/requests"):
                return _json(self.requests.entries(request.args.get("entity"), request.args.get("action")))
            if route == ("DELETE", "/_sim/requests"):
                self.requests.clear()
                return _json({"cleared": True})
        except ValueError as error:
            return _json({"error": str(error)}, 400)
        return _json({"error": f"no control endpoint {request.method} {request.path}"}, 404)


def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(request.get_data() or b"{}")
    except orjson.JSONDecodeError as error:
        raise ValueError(f"malformed JSON: {error}") from error
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body


class QuietRequestHandler(WSGIRequestHandler):
    """Request handler without one log line per request (a full pull makes hundreds)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip the access log."""


def make_app(db_path: str | Path, *, api_key: str) -> SimulatorApp:
    """Build the WSGI app for an already generated database."""
    return SimulatorApp(db_path, api_key=api_key)


def serve(db_path: str | Path, *, host: str = "127.0.0.1", port: int, api_key: str) -> None:
    """Serve the simulator until Ctrl-C (threaded, HTTP/1.1 keep-alive)."""
    app = make_app(db_path, api_key=api_key)
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        app.close()
