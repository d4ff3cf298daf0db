"""Amazon ECS: fidelity fixes of moto's API (fixes.py) and the Fargate data
plane moto lacks (tasks as containers)."""
