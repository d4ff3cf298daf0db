"""gunicorn settings, from the environment (ECS task definition)."""
import os

# 0.0.0.0 so the load balancer reaches the task; BIND overrides (tests use 127.0.0.1).
bind = os.environ.get("BIND", f"0.0.0.0:{os.environ.get('PORT', '8050')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# ECS sends SIGTERM and waits 30 s before SIGKILL.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
accesslog = "-"
errorlog = "-"
