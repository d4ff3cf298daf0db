"""Application Auto Scaling: fidelity fixes of moto's API."""
