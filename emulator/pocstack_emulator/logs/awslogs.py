"""The awslogs log driver: a container's stdout and stderr into its task's
CloudWatch Logs stream (<prefix>/<container>/<task id>) in moto's Logs, so
`aws logs tail` and the rollout diagnosis read what the app printed."""
import datetime
import threading


def _millis(stamp):
    """Docker's RFC 3339 nanosecond timestamp -> epoch milliseconds."""
    head, _, rest = stamp.partition(".")
    fraction = rest.rstrip("Z")[:6].ljust(6, "0") if rest else "000000"
    when = datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(when.timestamp() * 1000) + int(fraction) // 1000


class LogForwarder(threading.Thread):
    """Follows one container's logs until it ends, writing each line as an event."""

    def __init__(self, container, logs_backend, group, stream, lock):
        super().__init__(name=f"awslogs {stream}", daemon=True)
        self.container = container
        self.logs = logs_backend
        self.group, self.stream = group, stream
        self.lock = lock
        self.pending = []

    def run(self):
        try:
            for raw in self.container.logs(stream=True, follow=True, timestamps=True):
                for line in raw.decode("utf-8", "replace").splitlines():
                    stamp, _, message = line.partition(" ")
                    try:
                        timestamp = _millis(stamp)
                    except ValueError:
                        timestamp, message = int(datetime.datetime.now().timestamp() * 1000), line
                    self.pending.append({"timestamp": timestamp, "message": message})
                self.flush()  # Docker hands over what the container wrote: one PutLogEvents per chunk
        except Exception:  # the container is gone (removed at stop): nothing more to read
            pass
        finally:
            self.flush()

    def flush(self):
        if not self.pending:
            return
        events, self.pending = sorted(self.pending, key=lambda e: e["timestamp"]), []
        with self.lock:
            try:
                self.logs.put_log_events(self.group, self.stream, events)
            except Exception:  # the group was deleted meanwhile: the lines are lost, as on AWS
                pass
