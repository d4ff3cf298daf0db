"""Amazon EC2 (VPC): what a task's network interface reaches (network.py)."""
