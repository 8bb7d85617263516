"""gunicorn settings, read from the environment once at start (see the README's table).

Extra gunicorn flags can still be passed through GUNICORN_CMD_ARGS.
"""

from attrition.core import environment

_settings = environment.serving_settings()

bind = f"0.0.0.0:{_settings.port}"
workers = _settings.workers
timeout = _settings.timeout
# sync workers: measured (bench/serving.py) faster and steadier here than gthread, whose
# kept-alive connections can pile onto one worker and halve throughput. Each request is
# answered and its connection closed; GUNICORN_CMD_ARGS="--worker-class gthread --threads 4"
# switches to keep-alive for clients that need it.
worker_class = "sync"
# SageMaker sends SIGKILL 30 s after SIGTERM: finish in-flight requests well before that.
graceful_timeout = 20
errorlog = "-"
# One line per request costs ~7 % of single-row throughput, so the access log is opt-in.
# It never shows request bodies or query strings: they can hold employee data.
accesslog = "-" if _settings.access_log else None
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# gunicorn >= 24 opens a control socket under $HOME by default; nothing here uses it.
control_socket_disable = True
