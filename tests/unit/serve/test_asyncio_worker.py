"""gunicorn with the image's settings, on loopback: a request up to the payload limit that
follows a response at once on a kept-alive connection is answered, never dropped, and the
listening socket keeps the backlog gunicorn was given once its workers serve."""

import http.client
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.container.docker_helpers import free_port
from tests.helpers import ROOT

PROGRAM = ROOT / "container" / "program"


@pytest.fixture(scope="module")
def gunicorn(trained_dir):
    """gunicorn as `serve` execs it (same config and app), one worker, stopped by its PID."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(PROGRAM), "SAGEMAKER_BASE_DIR": str(trained_dir),
           "SAGEMAKER_BIND_TO_PORT": str(port), "SAGEMAKER_MODEL_SERVER_WORKERS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config", str(PROGRAM / "gunicorn.conf.py"),
                                "--bind", f"127.0.0.1:{port}", "attrition.serve.asgi:app"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/ping")
            if connection.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("gunicorn did not answer /ping: " + process.stderr.read().decode())
    yield port
    process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
    process.wait(timeout=30)


def test_large_requests_right_after_a_response_are_answered(gunicorn, ibm_rows):
    header, rows = ibm_rows[0], ibm_rows[1:]
    small = (header + "\n" + rows[0] + "\n").encode()
    large = (header + "\n" + "\n".join((rows * 5)[:6000]) + "\n").encode()
    assert len(large) > 800_000
    outcome = {"answered": 0, "dropped": 0}

    def client():
        for _ in range(10):
            connection = http.client.HTTPConnection("127.0.0.1", gunicorn, timeout=30)
            try:
                for body in (small, large, small, large, large):
                    connection.request("POST", "/invocations", body, {"Content-Type": "text/csv"})
                    response = connection.getresponse()
                    response.read()
                    outcome["answered"] += response.status == 200
            except OSError:
                outcome["dropped"] += 1
            finally:
                connection.close()

    clients = [threading.Thread(target=client) for _ in range(3)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert outcome == {"answered": 150, "dropped": 0}


def test_the_listen_backlog_stays_gunicorns_once_workers_serve(gunicorn):
    """`ss` shows a listening socket's backlog as its Send-Q (asyncio's default would be 100)."""
    shown = subprocess.run(["ss", "-ltnH", f"sport = :{gunicorn}"], capture_output=True, text=True, check=True)
    assert shown.stdout.split()[2] == "2048", shown.stdout
