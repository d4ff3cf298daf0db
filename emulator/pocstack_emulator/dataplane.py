"""The local data plane: what AWS runs behind the API, on a Docker engine.

moto stores ECS, ELBv2 and IAM state but runs nothing. With a Docker engine
(the project starts one: emulator/docker-setup.sh), the data plane adds the
missing half inside the emulator's process:

- ECS services get tasks (ecs/scheduler.py: deployments, rolling updates,
  the circuit breaker), each task a set of containers (ecs/tasks.py) started
  after Fargate's start-up checks (ecs/fargate.py: the execution role through
  iam/policy.py, the network path through ec2/network.py), its logs in
  CloudWatch Logs (logs/awslogs.py);
- tasks behind a load balancer are registered in their target groups, and
  registered targets are health-checked (elbv2/target_health.py);
- a task's private IP (from its subnet) stands for its container ports, which
  are published on 127.0.0.1 only: nothing is ever sent to another address.

Every moto call and every change the data plane makes to moto's state run
under one lock (`DataPlane.lock`; server.py takes it around each API call),
so background threads never see or leave a half-made change.

Without an engine (no root, no Docker), `start()` says why in one line and
the emulator is a control plane only, as before.
"""
import datetime
import ipaddress
import os
import threading
import time

from pocstack_emulator import HOST
from pocstack_emulator import docker_engine
from pocstack_emulator.ec2 import network
from pocstack_emulator.ecs import capacity
from pocstack_emulator.ecs.fargate import TaskFailed
from pocstack_emulator.ecs.scheduler import Scheduler
from pocstack_emulator.ecs.tasks import FargateTask
from pocstack_emulator.ecs.tasks import TaskRunner
from pocstack_emulator.ecs.tasks import docker_healthcheck
from pocstack_emulator.elbv2.listeners import Listeners
from pocstack_emulator.elbv2.listeners import parse_port_map
from pocstack_emulator.elbv2.target_health import TargetHealth

TICK = 0.5
# Seconds a task without a load balancer must stay RUNNING to count as healthy.
STABLE_AFTER = 3.0
# Stopped tasks stay visible to DescribeTasks for at least an hour on AWS.
STOPPED_TASK_TTL = 3600
# A public IP of a task with assignPublicIp ENABLED (a documentation range:
# never routed, never sent to).
PUBLIC_IPS = ipaddress.ip_network("198.51.100.0/24")

# The namespace holder of a task whose first container cannot hold it (create_holder).
HOLDER_IMAGE = os.environ.get("POCSTACK_BASE_IMAGE", "pocstack/python-base:bookworm")
HOLDER_NAME = "~internal~ecs~pause"  # the container name label ECS's own pause container carries

PLANE = None  # the running DataPlane, once start() made one


def _items(backend_dict):
    """(key, value) pairs of a moto BackendDict without creating backends."""
    return list(dict.items(backend_dict))


class DataPlane:
    def __init__(self, port, registry="", listener_ports="443=8443,80=8080"):
        self.port = port
        self.registry = registry.rstrip("/")
        self.lock = threading.RLock()
        self.client = None
        self.reason = None
        self.engine = None
        self.endpoints = {}  # (private IP, container port) -> (127.0.0.1, published port)
        self.runners = {}  # task ARN -> TaskRunner
        self.scheduler = Scheduler(self)
        self.health = TargetHealth(self.lock, self.resolve, self.elbv2_backends)
        self.listeners = Listeners(self, parse_port_map(listener_ports))
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ecs-scheduler", daemon=True)
        self._public_ips = iter(PUBLIC_IPS.hosts())

    @property
    def enabled(self):
        return self.client is not None

    def describe(self):
        """What /_pocstack/dataplane answers: the engine, and each live task with
        the loopback addresses of its container ports."""
        with self.lock:
            tasks = [{"cluster": r.task.cluster_name, "service": r.task.service_name, "task": r.task.id,
                      "last_status": r.task.last_status, "private_ip": r.task.private_ip,
                      "ports": {str(port): f"{host}:{published}" for (ip, port), (host, published)
                                in self.endpoints.items() if ip == r.task.private_ip}}
                     for r in self.runners.values() if r.task.desired_status == "RUNNING"]
            listeners = self.listeners.describe()
        return {"enabled": self.enabled, "reason": self.reason, "engine": self.engine, "registry": self.registry,
                "tasks": tasks, "listeners": listeners}

    # -- life cycle ---------------------------------------------------------------
    def start(self):
        self.client, self.reason = docker_engine.connect()
        if self.client is None:
            return self
        self.engine = docker_engine.describe(self.client)
        left = docker_engine.remove_own(self.client, self.port)
        if left:
            print(f"data plane: removed {left} container(s) a previous run on port {self.port} left", flush=True)
        from pocstack_emulator import dataplane_patches

        dataplane_patches.install(self)
        self.health.start()
        self._thread.start()
        return self

    def stop(self):
        """Kill every task at once (emulator exit): containers removed, nothing drains."""
        started = time.monotonic()
        self._stopping.set()  # from now on no tick launches a task
        self.wake()
        self.health.stop()
        self.listeners.stop()
        self.kill_all(join=True)
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        left = docker_engine.remove_own(self.client, self.port)  # what a runner made meanwhile
        print(f"data plane: stopped in {time.monotonic() - started:.1f} s"
              + (f" ({left} late container(s) removed)" if left else ""), flush=True)

    def kill_all(self, join=False):
        """Every task gone now (reset, exit): containers force-removed at once,
        no draining, no graceful stop. `join` waits (briefly) for the runners,
        which needs the lock free: not on a reset, which holds it."""
        with self.lock:
            runners = list(self.runners.values())
            for runner in runners:
                runner.kill()
        if self.client is not None:
            docker_engine.remove_own(self.client, self.port)
        if join:
            deadline = time.monotonic() + 5
            for runner in runners:
                runner.join(timeout=max(0.0, deadline - time.monotonic()))
        with self.lock:
            self.runners.clear()
            self.endpoints.clear()
            self.scheduler.states.clear()
            self.listeners.stop()
        self.health.reset()

    def wake(self):
        self._wake.set()

    def _loop(self):
        while not self._stopping.is_set():
            self._wake.wait(TICK)
            self._wake.clear()
            try:
                with self.lock:
                    if self._stopping.is_set():
                        return
                    self._tick()
            except Exception as e:  # one odd service must not stop every other one
                print(f"data plane: {type(e).__name__}: {e}", flush=True)

    def _tick(self):
        from moto.ecs.models import ecs_backends

        for _account, regions in _items(ecs_backends):
            for _region, backend in _items(regions):
                for service in list(backend.services.values()):
                    self.scheduler.reconcile(backend, service)
        self.listeners.reconcile()
        self._forget_old_tasks()

    def _forget_old_tasks(self):
        cutoff = time.monotonic() - STOPPED_TASK_TTL
        for arn, runner in list(self.runners.items()):
            if runner.task.last_status == "STOPPED" and runner.finished_at and runner.finished_at < cutoff:
                del self.runners[arn]
                tasks = runner.backend.tasks.get(runner.task.cluster_name, {})
                tasks.pop(arn, None)

    # -- moto's backends ------------------------------------------------------------
    @staticmethod
    def backends_for(account, region):
        from moto.ec2.models import ec2_backends
        from moto.ecr.models import ecr_backends
        from moto.elbv2.models import elbv2_backends
        from moto.iam.models import iam_backends
        from moto.kms.models import kms_backends
        from moto.logs.models import logs_backends
        from moto.secretsmanager.models import secretsmanager_backends
        from moto.ssm.models import ssm_backends

        return {
            "ec2": ec2_backends[account][region],
            "iam": iam_backends[account]["global"],
            "kms": kms_backends[account][region],
            "logs": logs_backends[account][region],
            "ssm": ssm_backends[account][region],
            "elbv2": elbv2_backends[account][region],
            "ecr_for": lambda acct, reg: ecr_backends[acct][reg],
            # a secret's account and region are its ARN's (ECS reads it there)
            "secretsmanager_for": lambda acct, reg: secretsmanager_backends[acct][reg],
        }

    @staticmethod
    def elbv2_backends():
        from moto.elbv2.models import elbv2_backends

        return [backend for _a, regions in _items(elbv2_backends) for _r, backend in _items(regions)]

    def service_tasks(self, service):
        return [r.task for r in self.runners.values() if r.service_arn == service.arn]

    # -- tasks ----------------------------------------------------------------------
    def launch(self, backend, service, deployment):
        """Start one task of `deployment`: network interface, record, runner."""
        from moto.ec2.models import ec2_backends

        if self._stopping.is_set():
            return None
        conf = (getattr(service, "network_configuration", None) or {}).get("awsvpcConfiguration") or {}
        subnets = conf.get("subnets") or []
        if not subnets:
            self.scheduler.event(service, f"(service {service.name}) was unable to place a task because no "
                                          "subnets are configured (awsvpc network configuration).")
            return None
        ec2 = ec2_backends[backend.account_id][backend.region_name]
        live = [t for t in self.service_tasks(service) if t.desired_status == "RUNNING"]
        subnet_id = subnets[len(live) % len(subnets)]  # spread over the subnets, as ECS spreads over AZs
        subnet = ec2.get_subnet(subnet_id)
        try:
            task_definition = backend.describe_task_definition(deployment["taskDefinition"])
        except Exception:  # deregistered and deleted under the service
            self.scheduler.event(service, f"(service {service.name}) failed to launch a task: the task definition "
                                          f"{deployment['taskDefinition']} does not exist.")
            return None
        eni = ec2.create_network_interface(subnet=subnet, private_ip_address=network.subnet_ip(ec2, subnet),
                                           group_ids=conf.get("securityGroups") or [],
                                           description=f"arn:aws:ecs:{backend.region_name}:{backend.account_id}:"
                                                       f"attachment/pending")
        eni.status = "in-use"
        eni.device_index = 1
        public_ip = str(next(self._public_ips)) if conf.get("assignPublicIp") == "ENABLED" else None
        cluster = backend.clusters[service.cluster_name]
        try:
            task = FargateTask(backend, cluster, service, deployment, task_definition, subnet, eni, public_ip)
        except Exception:
            ec2.enis.pop(eni.id, None)  # never leave an interface behind
            raise
        task.capacity_provider_name = capacity.next_provider(getattr(service, "capacity_provider_strategy", None),
                                                             [t.capacity_provider_name for t in live])
        # as DescribeTasks shows a Fargate task's platform
        platform = getattr(task_definition, "runtime_platform", None) or {}
        task.attributes = [{"name": "ecs.cpu-architecture",
                            "value": "arm64" if platform.get("cpuArchitecture") == "ARM64" else "x86_64"}]
        task.backends = self.backends_for(backend.account_id, backend.region_name)
        eni.description = f"arn:aws:ecs:{backend.region_name}:{backend.account_id}:attachment/{task.attachment_id}"
        eni.requester_id = "578734482556"  # ECS's, as DescribeNetworkInterfaces shows for task interfaces
        backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
        runner = TaskRunner(self, backend, task, service)
        self.runners[task.task_arn] = runner
        runner.start()
        return task

    def task_healthy(self, task):
        """RUNNING, HEALTHY when an essential container has a health check, and
        healthy in every target group it is registered in; a task behind no
        load balancer, once it has stayed RUNNING a few seconds (a container
        that exits at once must not complete a deployment)."""
        if task.desired_status != "RUNNING" or task.last_status != "RUNNING":
            return False
        if task.container_health_checked and task.health_status != "HEALTHY":
            return False
        if not task.registrations:
            return task.started_at is not None and \
                (datetime.datetime.now(datetime.timezone.utc) - task.started_at).total_seconds() >= STABLE_AFTER
        for group_arn, target_id, port in task.registrations:
            found = self.target_state(group_arn, target_id, port)
            if not found or found[0] != "healthy":
                return False
        return True

    def target_state(self, group_arn, target_id, port):
        for backend in self.elbv2_backends():
            group = backend.target_groups.get(group_arn)
            if group is not None:
                return self.health.describe(group, target_id, port)
        return None

    def register_target(self, task, group_arn, port):
        backend = task.backends["elbv2"]
        group = backend.target_groups.get(group_arn)
        if group is None:
            self.scheduler.event(self._service_of(task), f"(service {task.service_name}) failed to register targets "
                                                         f"in (target-group {group_arn}): it does not exist.")
            return
        backend.register_targets(group_arn, [{"Id": task.private_ip, "Port": port}])
        task.registrations.append((group_arn, task.private_ip, port))
        self.scheduler.event(self._service_of(task), f"(service {task.service_name}) registered 1 targets in "
                                                     f"(target-group {group_arn})")

    def deregister_targets(self, task):
        """Deregister the task's targets; returns the longest deregistration delay (seconds)."""
        backend = task.backends["elbv2"]
        delay = 0.0
        for group_arn, target_id, port in task.registrations:
            group = backend.target_groups.get(group_arn)
            if group is None or target_id not in group.targets:
                continue
            backend.deregister_targets(group_arn, [{"Id": target_id, "Port": port}])
            delay = max(delay, float(group.attributes.get("deregistration_delay.timeout_seconds", 300)))
            self.scheduler.event(self._service_of(task), f"(service {task.service_name}) deregistered 1 targets in "
                                                         f"(target-group {group_arn})")
        task.registrations = []
        return delay

    def _service_of(self, task):
        runner = self.runners.get(task.task_arn)
        return runner.service if runner is not None else None

    def release_network(self, task):
        for key in [k for k in self.endpoints if k[0] == task.private_ip]:
            del self.endpoints[key]
        ec2 = task.backends["ec2"]
        ec2.enis.pop(task.eni.id, None)

    def resolve(self, target_id, port, balancers=()):
        """The loopback address standing for a target (private IP, port), or None.

        With `balancers` (the load balancers sending to it): None too when the
        task's security groups accept none of them on that port, as AWS drops
        such traffic (health checks time out; see network.admits_load_balancer)."""
        address = self.endpoints.get((target_id, int(port)))
        if address is None or not balancers or self.admitted(target_id, port, balancers):
            return address
        return None

    def admitted(self, target_id, port, balancers):
        """Whether the security groups of the task at `target_id` accept one of
        `balancers` on `port` (a target that is no task of ours: nothing to check)."""
        task = next((r.task for r in self.runners.values() if r.task.private_ip == target_id), None)
        if task is None or getattr(task, "eni", None) is None:
            return True
        ec2 = task.backends["ec2"]
        return any(network.admits_load_balancer(ec2, task.eni, int(port), balancer) for balancer in balancers)

    # -- Docker ---------------------------------------------------------------------
    def pull(self, image):
        """The local image ID for a task's image: ECR images from the local
        registry by digest, others as the engine already has them."""
        import docker

        if image["ecr"]:
            if not self.registry:
                raise TaskFailed(f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                                 f"failed to resolve ref {image['uri']}: the local emulator has no registry behind "
                                 "ECR (start it with --registry)")
            host = self.registry.split("://", 1)[-1]
            ref = f"{host}/{image['repository']}@{image['digest']}"
            try:
                return self.client.images.get(ref).id
            except docker.errors.ImageNotFound:
                pass
            try:
                self.client.images.pull(f"{host}/{image['repository']}", tag=image["digest"])
                return self.client.images.get(ref).id
            except docker.errors.APIError as e:
                raise TaskFailed(f"CannotPullContainerError: pull image manifest has been retried 5 time(s): "
                                 f"failed to resolve ref {image['uri']}: {image['uri']}: not found "
                                 f"({e.explanation or e})")
        try:
            return self.client.images.get(image["uri"]).id
        except docker.errors.ImageNotFound:
            raise TaskFailed(f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
                             f"resolve ref {image['uri']}: the local emulator reaches no public registry, and the "
                             "Docker engine has no such image")

    def foreign_architecture(self, image, wanted):
        """The architecture a pulled image (local ID) is made for, when a task
        of the `wanted` one ("amd64", "arm64") could not run it; None when it
        can or nothing is wanted (an index's variant, an image outside ECR)."""
        if not wanted:
            return None
        made_for = self.client.images.get(image).attrs.get("Architecture")
        return made_for if made_for and made_for != wanted else None

    def create_container(self, task, definition, image, environment, ports, network_of=None, exec_format_error=None):
        """One container of a task: limits from the task definition, the task's
        first container holding the network namespace (awsvpc: one localhost)
        and the published ports, on 127.0.0.1 only. With exec_format_error (the
        image is made for another CPU architecture than the task's), its
        process fails as the kernel refuses a foreign binary: "exec <path>:
        exec format error" on stderr, exit code 1 (AWS's knowledge-center page
        "ecs-task-exec-format-error"); this engine would run it."""
        cpu = int(definition.get("cpu") or 0) or int(task.task_definition.cpu or 0) or 256
        memory = definition.get("memory") or task.task_definition.memory or 512
        kwargs = {
            "name": f"pocstack-{self.port}-{task.service_name}-{task.id[:12]}-{definition['name']}"[:128],
            "labels": {docker_engine.LABEL: str(self.port), docker_engine.TASK_LABEL: task.task_arn,
                       "com.amazonaws.ecs.task-arn": task.task_arn,
                       "com.amazonaws.ecs.container-name": definition["name"],
                       "com.amazonaws.ecs.task-definition-family": task.task_definition.family,
                       "com.amazonaws.ecs.task-definition-version": str(task.task_definition.revision),
                       "com.amazonaws.ecs.cluster": task.cluster_arn},
            "environment": environment,
            "nano_cpus": int(cpu * 1e9 / 1024),
            "mem_limit": f"{int(memory)}m",
            "detach": True,
            "init": False,
            "log_config": {"type": "json-file", "config": {"max-size": "10m"}},
            "healthcheck": docker_healthcheck(definition),
        }
        if definition.get("memoryReservation"):
            kwargs["mem_reservation"] = f"{int(definition['memoryReservation'])}m"
        if definition.get("command"):
            kwargs["command"] = definition["command"]
        if definition.get("entryPoint"):
            kwargs["entrypoint"] = definition["entryPoint"]
        if definition.get("workingDirectory"):
            kwargs["working_dir"] = definition["workingDirectory"]
        if definition.get("user"):
            kwargs["user"] = definition["user"]
        if definition.get("stopTimeout"):
            kwargs["stop_signal"] = "SIGTERM"
        if exec_format_error:
            config = self.client.images.get(image).attrs.get("Config") or {}
            path = (definition.get("entryPoint") or config.get("Entrypoint") or definition.get("command")
                    or config.get("Cmd") or ["/bin/sh"])[0]
            kwargs["entrypoint"] = ["/bin/sh", "-c", 'echo "exec $0: exec format error" >&2; exit 1', path]
            kwargs["command"] = []
            kwargs["healthcheck"] = {"Test": ["NONE"]}
        if network_of is None:
            kwargs["ports"] = {f"{port}/tcp": (HOST, None) for port in ports}
            kwargs["hostname"] = f"ip-{task.private_ip.replace('.', '-')}.ec2.internal"
        else:
            kwargs["network_mode"] = f"container:{network_of.id}"
        return self.client.containers.create(image, **kwargs)

    def create_holder(self, task, image, ports):
        """The task's namespace holder, as ECS's pause container: it owns the
        network namespace (awsvpc: one localhost) and the published ports, on
        127.0.0.1 only, when the first container of the definition cannot (it
        waits on a dependsOn, or is not essential and may exit). `sleep
        infinity` of the project's base image (docker-setup.sh builds it; the
        task's first image when the engine lacks it); labelled as the task's
        containers, so that every removal path removes it."""
        import docker

        try:
            self.client.images.get(HOLDER_IMAGE)
            holder_image = HOLDER_IMAGE
        except docker.errors.ImageNotFound:
            holder_image = image
        return self.client.containers.create(
            holder_image, entrypoint=["sleep"], command=["infinity"],
            name=f"pocstack-{self.port}-{task.service_name}-{task.id[:12]}-pause"[:128],
            labels={docker_engine.LABEL: str(self.port), docker_engine.TASK_LABEL: task.task_arn,
                    "com.amazonaws.ecs.task-arn": task.task_arn,
                    "com.amazonaws.ecs.container-name": HOLDER_NAME,
                    "com.amazonaws.ecs.cluster": task.cluster_arn},
            detach=True, init=False, nano_cpus=int(0.01 * 1e9), mem_limit="16m",
            log_config={"type": "none", "config": {}}, healthcheck={"test": ["NONE"]},
            ports={f"{port}/tcp": (HOST, None) for port in ports},
            hostname=f"ip-{task.private_ip.replace('.', '-')}.ec2.internal")

    @staticmethod
    def published_ports(container):
        """{container port: published port on 127.0.0.1} of a started container."""
        container.reload()
        found = {}
        for key, bindings in (container.attrs.get("NetworkSettings", {}).get("Ports") or {}).items():
            port, _, protocol = key.partition("/")
            if protocol == "tcp" and bindings:
                found[int(port)] = int(bindings[0]["HostPort"])
        return found

    @staticmethod
    def stop_container(container, timeout):
        try:
            container.stop(timeout=timeout)
        except Exception:  # already gone or stopped
            pass

    @staticmethod
    def remove_container(container):
        try:
            container.remove(force=True, v=True)
        except Exception:  # already gone
            pass


def start(port, registry="", mode="auto", listener_ports="443=8443,80=8080"):
    """Start the data plane (mode auto: when a Docker engine answers; off: never).
    Returns the DataPlane, enabled or with the reason it is not."""
    global PLANE
    PLANE = DataPlane(port, registry, listener_ports)
    if mode == "off":
        PLANE.reason = "turned off (--data-plane off)"
        return PLANE
    return PLANE.start()
