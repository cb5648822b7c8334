"""``sessionspec serve``: a local Qiskit Runtime REST server backed by the reference engine.

Loopback only unless ``--host`` says otherwise. It prints how to connect, writes the trace as the
clients act (``--trace``, the end-of-run line when it stops), and with ``--save-account`` writes
the clients' saved default accounts first. docs/serve.md is the guide.
"""

from __future__ import annotations

import contextlib
import importlib.util
import socket
from pathlib import Path
from typing import IO

import click

from model.spec.interpretations import Interpretation, InterpretationError
from model.views.output import open_streaming
from properties.cli.options import FiniteFloat, InputError, interpretation_option


@click.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="TCP port (0: any free port, printed).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the server to the network.")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the sessionspec trace here (JSON Lines; the end line when the server stops).")
@interpretation_option()
@click.option("--backend", "backends", multiple=True, metavar="NAME[=FAKE]",
              help="A backend to serve (repeatable), with the data of the client's fake backend FAKE "
                   "(default manila). Default: ibmq_qasm_simulator.")
@click.option("--speed", type=FiniteFloat(min=0), default=1.0, show_default=True,
              help="Virtual seconds per wall second between requests (think time); 0: time passes only "
                   "while a client waits for a job.")
@click.option("--job-seconds", type=FiniteFloat(min=0, min_open=True), default=5.0, show_default=True,
              help="Virtual seconds the device takes for each job.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the engine's randomness.")
@click.option("--save-account", is_flag=True,
              help="Once listening, write the clients' saved default accounts (~/.qiskit/qiskit-ibm.json) for it.")
@click.option("--account-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Account file for --save-account (default ~/.qiskit/qiskit-ibm.json).")
@click.option("--mock/--real", "mock", default=None,
              help="Mock results even where qiskit is installed (--mock), or insist on real ones (--real).")
def serve(
    port: int, host: str, trace_path: Path | None, interpretation: dict[str, str],
    backends: tuple[str, ...], speed: float, job_seconds: float, seed: int, save_account: bool,
    account_file: Path | None, mock: bool | None,
) -> None:
    """Serve the Qiskit Runtime REST API that qiskit-ibm-runtime uses, on the reference engine."""
    if importlib.util.find_spec("starlette") is None or importlib.util.find_spec("uvicorn") is None:
        raise InputError("sessionspec serve needs its extra: pip install 'sessionspec[serve]'")
    import uvicorn

    from model.serve.account import environment
    from model.serve.account import save_account as write_account
    from model.serve.app import create_app
    from model.serve.backends import DEFAULT_BACKEND, DEFAULT_FAKE, served_backend
    from model.serve.programs import Evaluator, qiskit_available
    from model.serve.state import RuntimeServer, Settings
    from model.trace import JsonlWriter

    try:
        chosen = Interpretation(interpretation)
    except InterpretationError as error:
        raise InputError(f"--interpretation: {error}") from None
    if mock is False and not qiskit_available():
        raise InputError("--real needs qiskit: pip install 'sessionspec[serve-qiskit]'")
    try:
        served = tuple(
            served_backend(name, fake or DEFAULT_FAKE)
            for name, _, fake in (spec.partition("=") for spec in (backends or (DEFAULT_BACKEND,)))
        )
    except (ValueError, OSError) as error:
        raise InputError(f"--backend: {error}") from None
    if len({b.name for b in served}) != len(served):
        raise InputError("--backend: a backend is named twice")
    profile = chosen.profile or "seeds"
    settings = Settings(served, chosen, seed, speed, job_seconds)
    reach = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # what a local client dials
    if host not in ("127.0.0.1", "::1", "localhost"):
        click.echo(f"warning: listening on {host}: anyone who reaches it can use this server (it checks no "
                   "token)", err=True)
    # Bound here, not by uvicorn: a port in use is then one line and exit 2, and the port is known (--port 0)
    # before the announcement; connections made from now on wait in the backlog until uvicorn serves them.
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
    except OSError as error:
        listener.close()
        raise InputError(f"--host {host} --port {port}: cannot listen: {error.strerror or error}") from None
    bound: int = listener.getsockname()[1]
    # Opened (truncated) only once listening: a second serve on a busy port must not empty the trace of the
    # server that holds it.
    stream: IO[str] | None = None
    writer = None
    if trace_path is not None:
        try:
            stream = open_streaming(trace_path)
        except OSError as error:
            listener.close()
            raise InputError(f"{trace_path}: cannot write: {error.strerror or error}") from None
        writer = JsonlWriter(stream)
    server = RuntimeServer(settings, writer, evaluator=Evaluator(real=None if mock is None else not mock))
    after_request = None
    failed: list[OSError] = []
    if writer is not None:
        trace = writer

        def after_request() -> None:  # each answered request's lines are in the file
            with server.lock:
                trace.flush()

    def on_write_error(error: OSError) -> None:  # the trace cannot be written: stop, one line, exit 2
        failed.append(error)
        web.should_exit = True

    web = uvicorn.Server(uvicorn.Config(
        create_app(server, after_request=after_request, on_write_error=on_write_error),
        log_level="warning", lifespan="off",
    ))
    try:
        if save_account:
            try:
                written, backup = write_account(settings.instance, reach, bound, account_file)
            except (OSError, ValueError) as error:
                raise InputError(f"--save-account: {error}") from None
            note = f" (previous entries kept in {backup})" if backup else ""
            click.echo(f"saved the default accounts of both client generations in {written}{note}")
        click.echo(f"sessionspec serve: http://{host}:{bound}  profile {profile}, backends "
                   f"{', '.join(b.name + ' (' + b.source + ')' for b in served)}, results: {server.evaluator.name}")
        click.echo("connect: QiskitRuntimeService() with the saved account (--save-account), and for today's "
                   "client")
        env = environment(settings.instance, reach, bound)
        click.echo(f"  export IAM_URL={env['IAM_URL']}")
        click.echo("or, with no saved account, in the environment:")
        click.echo("  " + " ".join(f"{k}={v}" for k, v in env.items()))
        if trace_path is not None:
            click.echo(f"trace: {trace_path} (sessionspec check / timeline it after stopping with Ctrl-C)")
        web.run(sockets=[listener])
    finally:
        listener.close()
        if writer is not None:
            if failed:
                with contextlib.suppress(OSError):
                    writer.close()
            else:
                try:
                    with server.lock:
                        server.sync()  # the think time up to the stop passes too: timers due by then fire
                        writer.end(server.engine.now)
                finally:
                    writer.close()  # what is buffered is written even if the stop is interrupted
    if failed:
        raise failed[0]  # the command line's one line for an unwritable output, exit 2
