"""CloudWatch Logs: the awslogs driver of the data plane (awslogs.py)."""
