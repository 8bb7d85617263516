"""The `serve` job: gunicorn answering /ping, /invocations, /model and /execution-parameters."""
