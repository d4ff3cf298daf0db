"""Amazon ECR: the image registry behind moto's ECR API (registry.py)."""
