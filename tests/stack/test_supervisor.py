import os
import socket
import sys
import time
from pathlib import Path

import pytest

from common.startup import StartupError
from stack.supervisor import Service, Supervisor

pytestmark = pytest.mark.unit

TOY = str(Path(__file__).with_name("toy_server.py"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def toy(name: str, *extra: str, port: int | None = None) -> Service:
    port = port or free_port()
    return Service(
        name=name,
        command=[sys.executable, TOY, str(port), *extra],
        host="127.0.0.1",
        port=port,
        port_variable=f"{name.upper()}_PORT",
        health_url=f"http://127.0.0.1:{port}/health",
        url=f"http://127.0.0.1:{port}",
    )


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not running any more.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


class TestSupervisor:
    def test_starts_all_and_stops_all_including_grandchildren(self, tmp_path):
        pidfile = tmp_path / "child.pid"
        services = [toy("alpha", "--spawn-child", str(pidfile)), toy("beta")]
        supervisor = Supervisor(services, tmp_path / "logs", startup_timeout_s=20)
        supervisor.start()
        pids = [item.process.pid for item in supervisor._running]
        grandchild = int(pidfile.read_text())
        assert all(alive(pid) for pid in [*pids, grandchild])
        supervisor.stop()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and alive(grandchild):
            time.sleep(0.1)
        assert not any(alive(pid) for pid in [*pids, grandchild])

    def test_one_dying_stops_the_others_with_its_log(self, tmp_path):
        services = [toy("steady"), toy("fragile", "--die-after", "1")]
        supervisor = Supervisor(services, tmp_path / "logs", startup_timeout_s=20)
        supervisor.start()
        steady_pid = supervisor._running[0].process.pid
        with pytest.raises(StartupError) as caught:
            supervisor.watch()
        supervisor.stop()
        message = str(caught.value)
        assert "fragile exited unexpectedly with code 7" in message
        assert "crashing on purpose" in message
        assert not alive(steady_pid)

    def test_port_taken_fails_before_starting_anything(self, tmp_path):
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", 0))
            squatter.listen()
            port = squatter.getsockname()[1]
            supervisor = Supervisor([toy("gamma", port=port)], tmp_path / "logs")
            with pytest.raises(StartupError, match=f"port {port}.*GAMMA_PORT"):
                supervisor.start()
        assert supervisor._running == []

    def test_never_healthy_service_times_out_and_is_stopped(self, tmp_path):
        supervisor = Supervisor(
            [toy("sleepy", "--never-healthy")], tmp_path / "logs", startup_timeout_s=2
        )
        with pytest.raises(StartupError, match="sleepy not healthy after 2 s"):
            supervisor.start()
        assert supervisor._running == []

    def test_the_health_check_sends_fresh_headers_of_the_service(self, tmp_path):
        guarded = toy("guarded", "--require-authorization", "Bearer secret-1")
        calls: list[int] = []

        def headers() -> dict[str, str]:
            calls.append(1)
            return {"Authorization": "Bearer secret-1"}

        guarded.health_headers = headers
        with Supervisor([guarded], tmp_path / "logs", startup_timeout_s=20):
            assert calls

    def test_a_health_check_without_the_required_header_never_succeeds(self, tmp_path):
        guarded = toy("guarded", "--require-authorization", "Bearer secret-1")
        supervisor = Supervisor([guarded], tmp_path / "logs", startup_timeout_s=2)
        with pytest.raises(StartupError, match="guarded not healthy"):
            supervisor.start()

    def test_crash_during_start_up_is_reported(self, tmp_path):
        broken = Service(
            name="broken",
            command=[sys.executable, "-c", "import sys; print('bad config'); sys.exit(2)"],
            host="127.0.0.1",
            port=free_port(),
            port_variable="BROKEN_PORT",
            health_url="http://127.0.0.1:1/health",
            url="",
        )
        supervisor = Supervisor([broken, toy("ok")], tmp_path / "logs", startup_timeout_s=10)
        with pytest.raises(StartupError, match="broken exited while starting with code 2"):
            supervisor.start()
        assert supervisor._running == []
