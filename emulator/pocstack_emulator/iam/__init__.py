"""AWS IAM: policy evaluation for the checks the data plane makes (policy.py)."""
