"""gunicorn settings, read from the environment once at start (see docs/serving.md's table).

Extra gunicorn flags can still be passed through GUNICORN_CMD_ARGS.
"""

import importlib
import os
import signal

from attrition.core.platform import environment
from attrition.serve import asyncio_worker

_settings = environment.serving_settings()

bind = f"0.0.0.0:{_settings.port}"
workers = _settings.workers
timeout = _settings.timeout
# gunicorn's own asyncio worker (uvloop, and its C HTTP parser): a worker reads every request
# whole before the app runs, so slow clients (slowloris, trickled bodies) hold a connection but
# never a worker; and it keeps connections alive, as SageMaker's front end wants.
# bench/serving.py measures it against the sync worker this image used before.
worker_class = "asgi"
worker_connections = 1000
# Longer than the idle timeout of the load balancers in front (60 s), so they close first.
keepalive = 75
# SageMaker sends SIGKILL 30 s after SIGTERM: finish in-flight requests well before that.
graceful_timeout = 20
# The heartbeat file lives in memory: works with --read-only and no tmpfs.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
errorlog = "-"
# One line per request costs throughput, so the access log is opt-in.
# It never shows request bodies or query strings: they can hold employee data.
accesslog = "-" if _settings.access_log else None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# gunicorn >= 24 opens a control socket under $HOME by default; nothing here uses it.
control_socket_disable = True


def post_fork(server, worker):
    """Load the model as soon as the worker exists, before it installs its signal handlers.

    uvloop loses a signal that arrives after its handler is installed but before the loop runs,
    and the model takes a moment to load: a SIGTERM in that time left the worker serving on until
    graceful_timeout. Loading here (the app module is then imported, and gunicorn's own import of
    it is instant), with SIGTERM at its default until the worker takes over, closes that gap: a
    worker stopped while loading simply ends, having served nothing."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    asyncio_worker.hold_whole_requests(_settings.max_payload_bytes)
    importlib.import_module("attrition.serve.asgi")


def post_worker_init(worker):
    asyncio_worker.keep_backlog(worker)
