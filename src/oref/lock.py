"""One run at a time per data directory: an OS file lock on ``<data_dir>/.oref.lock``.

Every command that writes (``oref run``, ``fetch``, ``build``, ``publish``, ``export``, ``rollback``)
and every Airflow step takes it. It is ``flock(LOCK_EX | LOCK_NB)``: the kernel holds it for the open
file and drops it when the holder's process ends, however it ends (``kill -9`` included), so a lock
is never left behind by a dead process. The file's presence means nothing; its content only tells
who holds (or last held) the lock: PID, host, start time, command and run id, as JSON.

- A second command exits at once with ``RunLocked``, naming the holder's PID, host and start time.
- A command that takes over from a killed holder (the file still names a PID of this host that no
  longer runs) says so: "taken over from PID n (no longer running)".
- The lock is re-entrant within a process: ``oref run`` takes it, then calls the step functions,
  which take it again for free.
- Airflow runs steps as separate processes, some in parallel (the fetches): ``wait`` makes a step
  queue for the lock instead of failing (see ``oref.airflow_support``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oref.config import Settings
from oref.errors import OrefError

LOCK_NAME = ".oref.lock"

# path -> (file descriptor, depth) of the locks this process holds: re-entrant per process
_held: dict[Path, tuple[int, int]] = {}


class RunLocked(OrefError):
    """Another process holds the data directory's run lock."""

    def __init__(self, path: Path, holder: dict[str, Any] | None) -> None:
        self.path = path
        self.holder = holder
        super().__init__(f"another oref command holds the run lock {path}: {describe(holder)}; "
                         "one run at a time per data directory: wait for it to end (or stop that process)")


@dataclass(frozen=True)
class Acquired:
    """What ``run_lock`` found when it took the lock: the previous holder's info, when it died holding it."""

    path: Path
    taken_over_from: dict[str, Any] | None = None


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / LOCK_NAME


def describe(holder: dict[str, Any] | None) -> str:
    if not holder:
        return "held by a process that has not written its details yet"
    what = ", ".join(filter(None, [f"oref {holder['command']}" if holder.get("command") else "",
                                  f"run {holder['run_id']}" if holder.get("run_id") else ""]))
    return (f"PID {holder.get('pid')} on host {holder.get('host')}, started {holder.get('started_at')}"
            + (f" ({what})" if what else ""))


def _read(fd: int) -> dict[str, Any] | None:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 65536):
        raw += chunk
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def read_holder(settings: Settings) -> dict[str, Any] | None:
    """The details the lock file holds (the current holder's, or a dead one's), if any."""
    try:
        fd = os.open(lock_path(settings), os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        return _read(fd)
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _dead_holder(previous: dict[str, Any] | None) -> dict[str, Any] | None:
    """The previous holder when it is a process of this host that no longer runs (killed holding the lock)."""
    if not previous or previous.get("host") != socket.gethostname():
        return None
    pid = previous.get("pid")
    if not isinstance(pid, int) or pid == os.getpid() or pid_alive(pid):
        return None
    return previous


def _try_lock(fd: int, wait: float) -> bool:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


@contextlib.contextmanager
def run_lock(settings: Settings, command: str, *, run_id: str | None = None, wait: float = 0.0,
             progress: Callable[[str], None] | None = None) -> Iterator[Acquired]:
    """Hold ``<data_dir>/.oref.lock`` for the block; raises ``RunLocked`` when another process holds it.

    ``wait``: seconds to queue for the lock before giving up (0: fail at once, as the CLI does).
    """
    path = lock_path(settings)
    if path in _held:  # this process holds it already (oref run -> its steps)
        fd, depth = _held[path]
        _held[path] = (fd, depth + 1)
        try:
            yield Acquired(path)
        finally:
            fd, depth = _held[path]
            _held[path] = (fd, depth - 1)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(fd, wait):
            holder = _read(fd)
            if holder is None:  # the holder took the lock an instant ago and is writing its details
                time.sleep(0.2)
                holder = _read(fd)
            raise RunLocked(path, holder)
        dead = _dead_holder(_read(fd))
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "command": command, "run_id": run_id}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me) + "\n").encode("utf-8"), 0)
        os.fsync(fd)
        if dead and progress:
            progress(f"[lock] {path}: taken over from PID {dead.get('pid')} (no longer running), "
                     f"which started {dead.get('started_at')}")
        _held[path] = (fd, 1)
        try:
            yield Acquired(path, dead)
        finally:
            del _held[path]
            # a clean exit leaves no holder details: details left in the file mean the holder died
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the last descriptor releases the flock
