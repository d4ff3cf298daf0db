"""AWS Certificate Manager: fidelity fixes of moto's API."""
