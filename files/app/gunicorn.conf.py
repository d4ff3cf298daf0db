"""gunicorn settings, from the environment (the ECS task definition).

    PORT                       listen port (8050)
    HOST                       listen address (0.0.0.0, so the load balancer reaches the task)
    BIND                       full bind address, overrides HOST/PORT (tests use 127.0.0.1:<port>)
    GUNICORN_WORKERS           worker processes (2)
    GUNICORN_THREADS           threads per worker (4)
    GUNICORN_TIMEOUT           seconds a request may take before its worker is restarted (30)
    GUNICORN_GRACEFUL_TIMEOUT  seconds in-flight requests get after SIGTERM (20)
"""
import os


def _int(name, default):
    value = os.environ.get(name, "") or str(default)
    try:
        number = int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {value!r}") from None
    if number < 1:
        raise SystemExit(f"{name} must be at least 1, got {number}")
    return number


bind = os.environ.get("BIND") or f"{os.environ.get('HOST') or '0.0.0.0'}:{_int('PORT', 8050)}"
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM gunicorn stops accepting, lets requests finish for this long and
# exits 0. ECS waits stopTimeout (30 s by default) before SIGKILL: stay below.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 20)
# Longer than the ALB's idle timeout (30 s), so the ALB, never gunicorn, closes
# an idle connection (the other way round gives sporadic 502s).
keepalive = 65
# Each worker listens on its own socket (SO_REUSEPORT) and the kernel spreads
# new connections over them. With one shared socket the worker that is awake
# accepts every connection that arrives at once (a load balancer opening its
# pool, a load generator): all 16 of a burst on one worker served 600 requests/s
# on two cores, 8 + 8 served 2,100 (bench/app/README.md). The cost: connections
# waiting in the backlog of a worker that is restarted are reset.
reuse_port = True


def when_ready(server):
    """With reuse_port the master binds nothing and logs an empty "Listening
    at:"; say where the workers listen (what the logs and the tests read)."""
    server.log.info("Listening at: %s (a socket per worker, SO_REUSEPORT)",
                    ", ".join(f"http://{address}" for address in server.cfg.bind))

# Logs to stdout/stderr, which the awslogs driver ships to CloudWatch. The
# client address comes from X-Forwarded-For: every request arrives via the ALB.
accesslog = "-"
errorlog = "-"
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# The heartbeat file on a RAM-backed fs, so a slow disk cannot stall workers.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicorn >= 25.1 opens a control socket under $HOME by default: not needed in
# a container (the non-root user has no home) and shared by parallel test runs.
control_socket_disable = True

# Import app.py once in the master, before forking: a configuration error stops
# the start with one clear line (not a worker boot loop), workers share the
# imported code (copy-on-write) and one random Flask key when none is given.
preload_app = True
