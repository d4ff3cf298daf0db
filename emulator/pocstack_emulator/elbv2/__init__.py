"""Elastic Load Balancing v2: fidelity fixes of moto's API (fixes.py) and the
data plane moto lacks (target_health.py)."""
