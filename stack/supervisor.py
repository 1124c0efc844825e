"""Start several server processes, wait until each is healthy, and stop them all together.

Each server runs in its own process group with its output in `<run_dir>/logs/<name>.log`. When one
exits unexpectedly the others are stopped and the reason is printed with the end of its log.
"""

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from common.startup import StartupError, port_in_use

STOP_GRACE_S = 10.0
POLL_INTERVAL_S = 0.25


@dataclass
class Service:
    """One server: how to start it and how to know it is ready."""

    name: str
    command: Sequence[str]
    host: str
    port: int
    port_variable: str
    health_url: str
    url: str
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    # Headers of each health request, made anew for each (a short-lived token).
    health_headers: Callable[[], Mapping[str, str]] = dict


@dataclass
class _Running:
    service: Service
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]


def is_healthy(url: str, timeout_s: float = 2.0, headers: Mapping[str, str] | None = None) -> bool:
    try:
        request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def tail(path: Path, lines: int = 8) -> str:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(content[-lines:])


class Supervisor:
    """Runs services together: all healthy, or none running."""

    def __init__(
        self,
        services: Sequence[Service],
        log_dir: Path,
        startup_timeout_s: float = 180.0,
        report: Callable[[str], None] = print,
    ) -> None:
        self.services = list(services)
        self.log_dir = log_dir
        self.startup_timeout_s = startup_timeout_s
        self.report = report
        self._running: list[_Running] = []
        self._stop_requested = threading.Event()

    def __enter__(self) -> "Supervisor":
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def pids(self) -> dict[str, int]:
        """The process id of each running service, by name (its process group leader)."""
        return {running.service.name: running.process.pid for running in self._running}

    def check_ports(self) -> None:
        for service in self.services:
            if port_in_use(service.host, service.port):
                raise StartupError(
                    f"port {service.port} on {service.host} is already in use, so the "
                    f"{service.name} cannot start: stop the other process or set "
                    f"{service.port_variable}"
                )

    def start(self) -> None:
        """Start every service and wait until all are healthy; on failure stop them all."""
        self.check_ports()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            for service in self.services:
                self._launch(service)
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise

    def _launch(self, service: Service) -> None:
        log_path = self.log_dir / f"{service.name.replace(' ', '_')}.log"
        log_file = log_path.open("wb")
        env = {**os.environ, **service.env}
        process = subprocess.Popen(
            list(service.command),
            cwd=service.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._running.append(_Running(service, process, log_path, log_file))

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        waiting = list(self._running)
        while waiting:
            if self._stop_requested.is_set():
                raise KeyboardInterrupt
            self._raise_if_one_exited(starting=True)
            waiting = [
                item
                for item in waiting
                if not is_healthy(item.service.health_url, headers=item.service.health_headers())
            ]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(item.service.name for item in waiting)
                raise StartupError(
                    f"{names} not healthy after {self.startup_timeout_s:.0f} s "
                    f"(logs in {self.log_dir})"
                )
            if waiting:
                time.sleep(POLL_INTERVAL_S)

    def _raise_if_one_exited(self, starting: bool) -> None:
        for item in self._running:
            code = item.process.poll()
            if code is not None:
                when = "while starting" if starting else "unexpectedly"
                last_lines = tail(item.log_path)
                detail = f"\n--- end of {item.log_path} ---\n{last_lines}" if last_lines else ""
                raise StartupError(
                    f"the {item.service.name} exited {when} with code {code}; "
                    f"stopping the other servers{detail}"
                )

    def request_stop(self) -> None:
        self._stop_requested.set()

    def watch(self) -> None:
        """Block until a stop is requested (return) or a server dies (StartupError)."""
        while not self._stop_requested.wait(POLL_INTERVAL_S):
            self._raise_if_one_exited(starting=False)

    def stop(self) -> None:
        """Terminate every process group, then kill what is left after the grace period."""
        for item in self._running:
            _signal_group(item.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for item in self._running:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                item.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                _signal_group(item.process, signal.SIGKILL)
                item.process.wait()
            # Children of the server that outlived it (workers) go too.
            _signal_group(item.process, signal.SIGKILL)
            item.log_file.close()
        self._running.clear()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
