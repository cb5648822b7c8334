"""How the command line ends when its output cannot be written or it is interrupted: a full device
is one line and exit 2, a reader that goes away (``| head -1``) is quiet, 141; no traceback ever.

Run as real processes: what is under test is what happens at the file descriptors."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "scenarios" / "busy_backend.json"
FULL = Path("/dev/full")
CLI = ["-c", "from properties.cli import main; main()"]
WITHIN = 600.0
"""Seconds a short command may take on a loaded machine: generous, a bound against hangs only."""

needs_full = pytest.mark.skipif(
    not (FULL.exists() and stat.S_ISCHR(FULL.stat().st_mode)), reason="no /dev/full character device here"
)


def run(*argv: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *CLI, *argv], cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE,
        text=True, timeout=WITHIN, check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[str], status: int = 2) -> str:
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("trace") / "t.jsonl"
    assert run("simulate", str(EXAMPLE), "--quiet", "--trace", str(path)).returncode == 0
    return path


@needs_full
@pytest.mark.parametrize("argv", [
    ["rules"], ["rules", "--format", "json"], ["--help"], ["--version"], ["check", "--help"],
    ["simulate", str(EXAMPLE)], ["check", "{trace}"], ["check", "{trace}", "--coverage"],
], ids=lambda argv: " ".join(argv))
def test_stdout_on_a_full_device_is_one_line_and_exit_2(argv: list[str], trace: Path) -> None:
    with FULL.open("w") as full:
        result = run(*(a.replace("{trace}", str(trace)) for a in argv), stdout=full.fileno())
    assert "No space left" in one_line_error(result)


@needs_full
def test_a_trace_to_a_full_device_is_one_line_exit_2_and_the_device_stays() -> None:
    result = run("simulate", str(EXAMPLE), "--quiet", "--trace", str(FULL))
    assert "No space left" in one_line_error(result)
    assert stat.S_ISCHR(FULL.stat().st_mode), "the device node was replaced by a file"


@needs_full
def test_a_timeline_to_a_full_device_is_one_line_exit_2(trace: Path, tmp_path: Path) -> None:
    link = tmp_path / "full.svg"
    link.symlink_to(FULL)
    result = run("timeline", str(trace), "-o", str(link))
    assert "No space left" in one_line_error(result)
    assert link.is_symlink() and stat.S_ISCHR(FULL.stat().st_mode)


def test_a_device_or_pipe_target_is_written_into_not_replaced(tmp_path: Path) -> None:
    link = tmp_path / "null.jsonl"
    link.symlink_to(os.devnull)
    assert run("simulate", str(EXAMPLE), "--quiet", "--trace", str(link)).returncode == 0
    assert link.is_symlink() and stat.S_ISCHR(Path(os.devnull).stat().st_mode)
    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    writer = subprocess.Popen(
        [sys.executable, *CLI, "simulate", str(EXAMPLE), "--quiet", "--trace", str(fifo)],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )
    with fifo.open() as reader:
        first = reader.readline()
        rest = reader.read()
    assert writer.wait(timeout=WITHIN) == 0, writer.stderr.read() if writer.stderr else ""
    assert first.startswith('{"type":"header"') and rest.endswith("\n")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


@pytest.mark.parametrize("argv", [["rules"], ["rules", "--format", "markdown"]],
                         ids=lambda argv: " ".join(argv))
def test_a_reader_that_goes_away_is_quiet(argv: list[str]) -> None:
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # smaller than the output, so that a write finds it closed
    process = subprocess.Popen([sys.executable, *CLI, *argv], cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    assert os.read(read_end, 100)  # the first bytes; the rest does not fit in the pipe
    os.close(read_end)
    _, stderr = process.communicate(timeout=WITHIN)
    assert process.returncode == 141, stderr
    assert stderr == b""


def test_a_counterexample_that_cannot_be_written_is_exit_2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The finding is printed; the output that failed makes the status 2 (not 1, a mere finding)."""
    import errno

    from click.testing import CliRunner

    from properties.cli import cli
    from properties.conformance import campaign

    def full(path: Path, data: str | bytes) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(campaign, "write_whole", full)
    result = CliRunner().invoke(cli, ["conform", "--adapter", "tests.test_conform:exits", "-n", "50",
                                      "--out", str(tmp_path / "cex")])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines()[-1].startswith(f"error: --out {tmp_path / 'cex'}: cannot write: No space")



def _catches_sigterm(pid: int) -> bool:
    """Whether the process has a handler for SIGTERM yet (its SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (15 - 1)))
    return False


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_sigterm_ends_a_command_with_one_line_and_143() -> None:
    """SIGTERM (``kill``, a CI timeout) is handled like Ctrl-C: ``finally`` blocks run, one line, 128 + 15."""
    process = subprocess.Popen([sys.executable, *CLI, "explore", "--depth", "12"], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60  # imports on a loaded machine; before the fix: never
        while not _catches_sigterm(process.pid) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        process.terminate()
        _, stderr = process.communicate(timeout=WITHIN)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143 and stderr.strip() == "error: terminated", stderr
