"""The HTTP face of :class:`~model.serve.state.RuntimeServer`: a Starlette application.

The client derives every host from its ``url`` (``quantum.<host>/api/v1`` for the runtime API,
``iam.<host>``, ``api.global-search-tagging.<host>``, ``globalcatalog.<host>``; the seed-era
client ``<region>.quantum-computing.<host>``) and is pointed at this server as its HTTP proxy,
so requests arrive in absolute form (``GET http://quantum.fake.cloud/api/v1/backends``). A small
ASGI layer (:class:`HostRouting`) turns each into a path of this application by its host:
``/iam/...``, ``/search/...``, ``/catalog/...``, the runtime API's paths as they are (its
``/api/v1`` prefix dropped; whether it had one tells the client generation), and
``/sessionspec/...`` for the control endpoints. A request made directly to the server (no
proxy) is routed by its path alone.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from model.serve.state import ApiError, Deferred, RuntimeServer
from model.trace import strict_json

Handler = Callable[[Request], Awaitable[Response]]

_PREFIXES = (("iam.", "/iam"), ("api.global-search-tagging.", "/search"), ("globalcatalog.", "/catalog"))


class HostRouting:
    """ASGI middleware: absolute-form targets and virtual hosts become this application's paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        host = ""
        if "://" in path:  # absolute form: the client uses this server as its proxy
            parts = urlsplit(path)
            host, path = parts.hostname or "", parts.path or "/"
        else:
            for name, value in scope.get("headers", ()):
                if name == b"host":
                    host = value.decode("latin-1").split(":")[0]
        generation = "current"
        for prefix, mount in _PREFIXES:
            if host.startswith(prefix):
                path = mount + (path.removeprefix("/api/v1") if mount == "/catalog" else path)
                break
        else:
            if path.startswith("/api/v1/"):
                path = path.removeprefix("/api/v1")
            elif not path.startswith(("/sessionspec/", "/identity/", "/v3/")):
                generation = "legacy"  # the seed-era client's runtime paths have no prefix
        scope = dict(scope, path=path, raw_path=path.encode(), state={**scope.get("state", {}),
                                                                       "generation": generation})
        await self.app(scope, receive, send)


def create_app(
    server: RuntimeServer, *, after_request: Callable[[], None] | None = None,
    on_write_error: Callable[[OSError], None] | None = None,
) -> ASGIApp:
    """The ASGI application answering the clients on ``server``; ``after_request`` runs after each
    request (the command flushes the trace file there). A trace file that cannot be written (an
    OSError while a request is answered) is given to ``on_write_error`` (the command stops) and
    the request is answered 500 with a JSON body; without it, the error propagates."""

    def handler(fn: Callable[..., Any], *, sync: bool = True, text: bool = False) -> Handler:
        async def endpoint(request: Request) -> Response:
            body: Any = None
            if request.method in ("POST", "PATCH", "PUT"):
                raw = await request.body()
                if raw:
                    try:
                        body = strict_json.loads(raw)
                    except strict_json.Unusable as error:
                        body = error  # refused by the endpoints that read a body (object_body)
            try:
                try:
                    with server.lock:
                        if sync:
                            server.sync()
                        result = fn(request, body)
                    if isinstance(result, Deferred):  # a result's evaluation: other requests are answered meanwhile
                        result = await run_in_threadpool(result.work)
                except ApiError as error:
                    result = JSONResponse(error.body(), status_code=error.status)
                finally:
                    if after_request is not None:
                        after_request()
            except OSError as error:  # the trace's file: the only writing a request does
                if on_write_error is None:
                    raise
                on_write_error(error)
                failure = ApiError(500, "TRACE-UNWRITABLE", f"the server cannot write its trace "
                                                            f"({error.strerror or error}): it stops")
                return JSONResponse(failure.body(), status_code=500)
            if isinstance(result, Response):
                return result
            if text:
                return PlainTextResponse(result, media_type="application/json")
            return JSONResponse(result)

        return endpoint

    def p(request: Request, key: str) -> str:
        value: str = request.path_params[key]
        return value

    def generation(request: Request) -> str:
        return str(request.scope.get("state", {}).get("generation", "current"))

    def object_body(body: Any) -> dict[str, Any]:
        if isinstance(body, strict_json.Unusable):
            raise ApiError(400, "BAD-REQUEST", f"the request body is not usable JSON: {body.reason}")
        if not isinstance(body, dict):
            raise ApiError(400, "BAD-REQUEST", "the request body must be a JSON object")
        return body

    def backends(request: Request, _: Any) -> Any:
        if generation(request) == "legacy":
            return {"devices": list(server.backends)}
        return {"devices": [b.listing() for b in server.backends.values()]}

    def session_patch(request: Request, body: Any) -> Response:
        accepting = object_body(body).get("accepting_jobs")
        if accepting is not None and not isinstance(accepting, bool):
            raise ApiError(400, "BAD-REQUEST", f"accepting_jobs must be true or false, got {accepting!r}")
        if accepting is False:
            server.close_session(p(request, "sid"))
        else:
            server.session_details(p(request, "sid"))  # 404 for an unknown session
        return Response(status_code=204)

    def session_cancel(request: Request, _: Any) -> Response:
        server.cancel_session(p(request, "sid"))
        return Response(status_code=204)

    def job_cancel(request: Request, _: Any) -> Response:
        server.cancel_job(p(request, "jid"))
        return Response(status_code=204)

    def job_get(request: Request, _: Any) -> Any:
        exclude = request.query_params.get("exclude_params", "").lower() == "true"
        return server.job(p(request, "jid"), exclude_params=exclude)

    def advance(request: Request, body: Any) -> Any:
        seconds = object_body(body).get("seconds")
        if not isinstance(seconds, int | float) or isinstance(seconds, bool):
            raise ApiError(400, "BAD-REQUEST", f"seconds must be a number, got {seconds!r}")
        server.advance(float(seconds))
        return server.state()

    def fault(request: Request, body: Any) -> Any:
        backend = object_body(body).get("backend")
        if not isinstance(backend, str):
            raise ApiError(400, "BAD-REQUEST", f"backend must be a backend's name, got {backend!r}")
        return {"failed": server.fault(backend), **server.state()}

    def trace(request: Request, _: Any) -> Response:
        return PlainTextResponse(server.trace_text(), media_type="application/x-ndjson")

    routes = [
        # stubs of the services the client consults while it builds QiskitRuntimeService
        Route("/iam/identity/token", handler(lambda r, b: iam_token(), sync=False), methods=["POST"]),
        Route("/identity/token", handler(lambda r, b: iam_token(), sync=False), methods=["POST"]),
        Route("/search/v3/resources/search", handler(lambda r, b: instances(server), sync=False), methods=["POST"]),
        Route("/v3/resources/search", handler(lambda r, b: instances(server), sync=False), methods=["POST"]),
        Route("/catalog/{plan}", handler(lambda r, b: catalog(p(r, "plan")), sync=False), methods=["GET"]),
        # the runtime API
        Route("/backends", handler(backends), methods=["GET"]),
        Route("/backends/{name}/configuration",
              handler(lambda r, b: server.backend(p(r, "name")).configuration), methods=["GET"]),
        Route("/backends/{name}/properties",
              handler(lambda r, b: server.backend(p(r, "name")).properties), methods=["GET"]),
        Route("/backends/{name}/defaults", handler(lambda r, b: not_found("pulse defaults")), methods=["GET"]),
        Route("/backends/{name}/status", handler(lambda r, b: server.backend_status(p(r, "name"))), methods=["GET"]),
        Route("/instances/usage", handler(lambda r, b: server.usage()), methods=["GET"]),
        Route("/sessions", handler(lambda r, b: server.create_session(object_body(b))), methods=["POST"]),
        Route("/sessions/{sid}", handler(lambda r, b: server.session_details(p(r, "sid"))), methods=["GET"]),
        Route("/sessions/{sid}", handler(session_patch), methods=["PATCH"]),
        Route("/sessions/{sid}/close", handler(session_cancel), methods=["DELETE"]),
        Route("/jobs", handler(lambda r, b: server.create_job(object_body(b))), methods=["POST"]),
        Route("/jobs", handler(lambda r, b: server.jobs_list(dict(r.query_params))), methods=["GET"]),
        Route("/jobs/{jid}", handler(job_get), methods=["GET"]),
        Route("/jobs/{jid}/results", handler(lambda r, b: server.prepare_results(p(r, "jid")), text=True),
              methods=["GET"]),
        Route("/jobs/{jid}/cancel", handler(job_cancel), methods=["POST"]),
        Route("/jobs/{jid}/metrics", handler(lambda r, b: server.metrics(p(r, "jid"))), methods=["GET"]),
        Route("/jobs/{jid}/logs", handler(lambda r, b: "", text=True), methods=["GET"]),
        Route("/jobs/{jid}/interim_results", handler(lambda r, b: "null", text=True), methods=["GET"]),
        # control: what a test (or a curious user) asks of the run itself
        Route("/sessionspec/state", handler(lambda r, b: server.state()), methods=["GET"]),
        Route("/sessionspec/advance", handler(advance), methods=["POST"]),
        Route("/sessionspec/fault", handler(fault), methods=["POST"]),
        Route("/sessionspec/trace", handler(trace), methods=["GET"]),
    ]
    return HostRouting(Starlette(routes=routes))


def not_found(what: str) -> Any:
    raise ApiError(404, "NOT-MODELLED", f"{what}: not modelled by sessionspec serve")


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def iam_token() -> dict[str, Any]:
    """An IAM token the client accepts: a JWT with ``iat`` and ``exp`` (its signature is never checked)."""
    now = int(time.time())
    token = ".".join((_b64({"alg": "none", "typ": "JWT"}), _b64({"iat": now, "exp": now + 3600,
                                                                  "sub": "sessionspec"}), "sessionspec"))
    return {"access_token": token, "refresh_token": "sessionspec", "token_type": "Bearer", "expires_in": 3600,
            "expiration": now + 3600}


def instances(server: RuntimeServer) -> dict[str, Any]:
    """Global Search: the one instance this server serves (with a backend allocation, so it counts)."""
    crn = server.settings.instance
    return {"items": [{"crn": crn, "service_plan_unique_id": "plan-open", "name": "sessionspec", "tags": [],
                       "doc": {"extensions": {"quantum_computing": {"backends": list(server.backends)}}}}],
            "search_cursor": None, "limit": 100}


def catalog(plan: str) -> dict[str, Any]:
    """Global Catalog: the instance's plan, free (the client prefers free plans)."""
    return {"id": plan, "overview_ui": {"en": {"display_name": "Open"}}, "metadata": {"pricing": {"type": "free"}}}


class ServerThread:
    """The application served by uvicorn in a background thread (tests, notebooks): a context manager
    whose ``port`` is the bound port (``port=0`` picks a free one)."""

    def __init__(self, server: RuntimeServer, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.server = server
        self.host = host
        self._web = uvicorn.Server(uvicorn.Config(create_app(server), host=host, port=port, log_level="warning",
                                                  lifespan="off"))
        self._thread = threading.Thread(target=self._web.run, name="sessionspec-serve", daemon=True)
        self.port = port

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self._web.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sessionspec serve did not start")
            time.sleep(0.01)
        for listener in self._web.servers:
            for sock in listener.sockets:
                self.port = sock.getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self._web.should_exit = True
        self._thread.join(timeout=30)

    @property
    def proxy(self) -> str:
        return f"http://{self.host}:{self.port}"
