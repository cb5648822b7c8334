"""``conform`` owns its implementation's whole process tree.

The implementation here is a shell wrapper that records its PID (its process group's ID:
the kit starts it in a session of its own), leaves a grandchild sleeping in the
background, and runs the real implementation (or a command that hangs) as its child.
Whatever ends the campaign (its normal end, a timeout, SIGTERM or SIGINT to the kit), no
process of that group may survive. Time bounds are generous: only the polling for the
group's end waits, and it stops as soon as the group is gone.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from properties.cli import cli
from properties.conformance.adapter import AdapterError
from properties.conformance.campaign import run_campaign
from properties.conformance.process_group import STDERR_KEEP
from properties.conformance.subprocess_iut import StdioFactory

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ["-m", "properties.conformance.reference_iut"]
"""The reference as an out-of-process IUT: arguments after the interpreter."""
PYTHON = sys.executable
GONE_WITHIN = 120.0
"""Seconds a killed group may take to disappear (orphans are reaped by init, on a busy machine)."""

WRAPPER = """\
echo $$ > "$1.tmp" && mv "$1.tmp" "$1"
shift
sleep 1000 &
"$@"
"""


def wrapper(tmp_path: Path, *command: str) -> tuple[list[str], Path]:
    """argv of the wrapper around ``command``, and the file where it writes its group's ID."""
    script = tmp_path / "wrapper.sh"
    script.write_text(WRAPPER, encoding="utf-8")
    pidfile = tmp_path / "pgid"
    return ["sh", str(script), str(pidfile), *command], pidfile


_started: list[int] = []


@pytest.fixture(autouse=True)
def no_leftovers() -> Iterator[None]:
    """Whatever a failing test leaves behind is killed (by its group's ID) after it."""
    yield
    while _started:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(_started.pop(), signal.SIGKILL)


def wait_for(pidfile: Path) -> int:
    """The wrapper's process group ID, once it has written it."""
    deadline = time.monotonic() + GONE_WITHIN
    while not pidfile.exists():
        assert time.monotonic() < deadline, "the wrapper never started"
        time.sleep(0.05)
    pgid = int(pidfile.read_text())
    _started.append(pgid)
    return pgid


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the ID now names a group of another user: ours is gone
        return False
    return True


def assert_group_gone(pgid: int) -> None:
    deadline = time.monotonic() + GONE_WITHIN
    while group_exists(pgid):
        assert time.monotonic() < deadline, f"process group {pgid} survived the kit"
        time.sleep(0.1)


def test_the_group_is_killed_when_the_campaign_ends(tmp_path: Path) -> None:
    argv, pidfile = wrapper(tmp_path, PYTHON, *EXAMPLE)
    factory = StdioFactory(argv, timeout=60)
    result = run_campaign(factory, examples=3, seed=0)
    assert result.finding is None, result.finding and result.finding.report()
    assert_group_gone(wait_for(pidfile))


def test_the_group_is_killed_on_timeout(tmp_path: Path) -> None:
    argv, pidfile = wrapper(tmp_path, "sleep", "1000")
    factory = StdioFactory(argv, timeout=0.5, startup=0.0)
    try:
        result = run_campaign(factory, examples=1, seed=0)
        assert result.finding is not None and result.finding.kind == "timeout"
        assert "no answer to init within 0.5 s (killed)" in result.finding.message
        assert_group_gone(wait_for(pidfile))
    finally:
        factory.close()


def test_a_group_already_gone_is_no_error(tmp_path: Path) -> None:
    factory = StdioFactory(["sh", "-c", "exit 0"], timeout=60)
    result = run_campaign(factory, examples=1, seed=0)
    assert result.finding is not None and result.finding.kind == "died"
    factory.close()  # again: nothing left to kill


KIT = (
    "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "signal.signal(signal.SIGTERM, signal.SIG_DFL); from properties.cli import main; main()"
)
"""The CLI with the dispositions of an interactive shell, whatever the test runner's are."""


def conform_process(tmp_path: Path, argv: list[str]) -> subprocess.Popen[bytes]:
    """``sessionspec conform`` on ``argv`` with a per-operation timeout longer than any test."""
    return subprocess.Popen(
        [PYTHON, "-c", KIT, "conform", "--cmd", shlex.join(argv),
         "--timeout", "3600", "--examples", "5"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(("signum", "status", "line"), [(signal.SIGTERM, 143, "error: terminated"),
                                                        (signal.SIGINT, 130, "error: interrupted")],
                         ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_kit_kills_the_group_first(tmp_path: Path, signum: int, status: int, line: str) -> None:
    argv, pidfile = wrapper(tmp_path, "sleep", "1000")
    kit = conform_process(tmp_path, argv)
    try:
        pgid = wait_for(pidfile)
        kit.send_signal(signum)
        _, stderr = kit.communicate(timeout=GONE_WITHIN)
        # The group is killed first; then the CLI's own handling: SIGINT's KeyboardInterrupt and SIGTERM's
        # Terminated each end in one line with 128 + the signal (not click's "Aborted!" and 1, a finding's).
        assert kit.returncode == status, stderr
        assert stderr.decode().strip().splitlines()[-1] == line, stderr
        assert b"Traceback" not in stderr and b"Aborted" not in stderr, stderr
        assert_group_gone(pgid)
    finally:
        if kit.poll() is None:
            kit.kill()
            kit.wait()


def test_stderr_capture_is_bounded_and_the_finding_says_so(tmp_path: Path) -> None:
    script = tmp_path / "chatty.py"
    script.write_text(
        "import sys\n"
        "sys.stdin.readline()\n"
        "sys.stderr.write('x' * 1_000_000 + '\\nthe last words\\n')\n"
        "sys.exit(4)\n",
        encoding="utf-8",
    )
    factory = StdioFactory([PYTHON, str(script)], timeout=60)
    result = run_campaign(factory, examples=1, seed=0)
    finding = result.finding
    assert finding is not None and finding.kind == "died"
    assert "exited (status 4) without answering init" in finding.message
    assert f"its stderr (1000016 bytes, of which the kit keeps the last {STDERR_KEEP // 1024} KiB) ends:" in (
        finding.message
    )
    assert finding.message.endswith("the last words'")


@pytest.mark.parametrize(
    ("cmd", "says"),
    [("", "--cmd '': an empty command"),
     ("   ", "an empty command"),
     ("prog 'x", "cannot split it into arguments: No closing quotation")],
    ids=["empty", "blank", "unbalanced-quote"],
)
def test_an_unusable_command_is_a_usage_error(cmd: str, says: str) -> None:
    with pytest.raises(AdapterError) as raised:
        StdioFactory(cmd)
    assert says in str(raised.value)
    result = CliRunner().invoke(cli, ["conform", "--cmd", cmd, "--examples", "1"])
    assert result.exit_code == 2 and says in result.output and "Traceback" not in result.output
