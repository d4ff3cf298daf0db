"""The embedded local AWS emulator of pocstack.aws: a moto server on 127.0.0.1
with fidelity fixes, and the data plane moto lacks (see emulator/README.md).

Modules are named for what they emulate: `ecs`, `elbv2`, `acm`,
`appautoscaling`, `ecr` (fixes of moto's API and the data plane beside its
stored state); `server` (the WSGI app: call counter, throttling, our own
endpoints) and `cli` (start/stop/status/run).
"""
HOST = "127.0.0.1"
# Seconds a requested certificate stays PENDING_VALIDATION once its DNS records
# exist (moto's MOTO_ACM_VALIDATION_WAIT, default 60 there): short, so that a
# deploy with a requested certificate waits seconds, yet still long enough that
# a waiter is exercised. The environment variable, if set, wins.
ACM_VALIDATION_WAIT = 3
