"""Processes the battery starts, kills and restarts: a private Redis, the stack's Celery pool
process, and the PostgreSQL cluster.

Only processes this battery started are ever signalled, each by its own id.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of the battery's own (no persistence): killing it touches nothing else."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed (scripts/bootstrap.sh installs it)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (our own arguments, no shell)
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def kill(self) -> None:
        """kill -9: no shutdown, no goodbye to its clients."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        self.kill()


# --- the process tree under the stack ---------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    cmdline: str


def processes() -> dict[int, Proc]:
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        # The command name in parentheses may hold spaces: the fields after the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(entry.name)] = Proc(int(entry.name), int(fields[1]), cmdline)
    return out


def descendants(root: int) -> list[Proc]:
    table = processes()
    children: dict[int, list[Proc]] = {}
    for proc in table.values():
        children.setdefault(proc.ppid, []).append(proc)
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found


SHELLS = ("sh", "bash", "dash", "env")


def celery_pool_processes(root: int) -> list[Proc]:
    """The Celery worker's pool processes: prefork children of the worker's main process (which
    honcho starts through a shell; the shell's command line names the worker too)."""
    tree = descendants(root)
    workers = {
        p.pid
        for p in tree
        if "celery" in p.cmdline
        and " worker" in p.cmdline
        and Path(p.cmdline.split(" ", 1)[0]).name not in SHELLS
    }
    return [p for p in tree if p.pid in workers and p.ppid in workers]


def kill_process(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def owner_of_local_port(port: int, pids: list[int]) -> int | None:
    """Which of these processes holds the TCP socket with this local port (a database client's
    port, as pg_stat_activity.client_port shows it)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        if any(link.startswith("socket:[") and link[8:-1] in inodes for link in links):
            return pid
    return None


# --- PostgreSQL ------------------------------------------------------------------------------


def tool(name: str) -> str:
    """A system tool's full path (PostgreSQL's client tools are on PATH on Debian and Ubuntu)."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed")
    return path


def postgres_cluster(port: int) -> tuple[str, str] | None:
    """(version, name) of the local cluster on this port, from pg_lsclusters."""
    try:
        command = [tool("pg_lsclusters"), "-h"]
        listing = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    except (OSError, RuntimeError, subprocess.CalledProcessError):
        return None
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == str(port):
            return fields[0], fields[1]
    return None


def postgres_restart(version: str, name: str, mode: str) -> subprocess.CompletedProcess:
    """Restart the whole cluster: `fast` ends every session and checkpoints, `immediate` stops
    without a checkpoint (crash recovery at start)."""
    command = [tool("pg_ctlcluster"), "--skip-systemctl-redirect", version, name, "restart"]
    if os.geteuid() != 0 and shutil.which("sudo"):
        command = [tool("sudo"), "-n", *command]  # as scripts/bootstrap.sh starts it
    return subprocess.run(  # noqa: S603 (our own arguments, no shell)
        [*command, "-m", mode], capture_output=True, text=True, check=False, timeout=180
    )


def postgres_ready(host: str, port: int, timeout: float = 120) -> bool:
    command = [tool("pg_isready"), "-q", "-h", host, "-p", str(port)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if subprocess.run(command, check=False).returncode == 0:  # noqa: S603
            return True
        time.sleep(0.2)
    return False
