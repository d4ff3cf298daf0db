"""A Fargate task as a set of containers on the Docker engine.

`FargateTask` is the task record moto serves (DescribeTasks, ListTasks): it
follows the containers. `TaskRunner` (one thread per task) takes it through
Fargate's life cycle, as the task lifecycle page of the ECS guide describes:

PROVISIONING  network interface attached (a private IP of the task's subnet)
PENDING       the start-up checks (fargate.py), image pulls by digest
              containers started in dependsOn order (START, COMPLETE, SUCCESS,
              HEALTHY; `blocked`), each given up on when its dependency cannot get there
ACTIVATING    targets registered in the service's target groups
RUNNING       until an essential container exits or the task is asked to stop
              (the scheduler asks when an essential container turns UNHEALTHY)
DEACTIVATING  targets deregistered; they drain for the group's deregistration delay
STOPPING      SIGTERM, SIGKILL after stopTimeout (30 s)
DEPROVISIONING containers removed, network interface released
STOPPED       with stopCode, stoppedReason and each container's exit code

Containers share one network namespace (awsvpc: localhost between the
containers of a task), held by the first container, or by a holder container
(as ECS's pause container) when the first one waits on a dependsOn or is not
essential; the container ports of the task definition are published on
127.0.0.1 only, on ports Docker picks. The data plane maps the
task's private IP and container port to that published port, for the health
checker and the load balancers.

Container health checks: a container definition's `healthCheck` becomes the
container's Docker healthcheck (ECS hands it to the engine the same way, as
the HEALTHCHECK of `docker run`); a container without one gets none, since
ECS neither runs nor reports a HEALTHCHECK the image itself carries. The
runner reads Docker's verdict each second into the container's
`healthStatus` (starting: UNKNOWN) and the task's (`task_health`).
"""
import datetime
import threading
import time
import uuid

from moto.core.common_models import BaseModel

from pocstack_emulator.ecs.execute import managed_agents
from pocstack_emulator.ecs.fargate import Checks
from pocstack_emulator.ecs.fargate import TaskFailed
from pocstack_emulator.ecs.fargate import assume_role_error
from pocstack_emulator.ecs.fargate import can_assume
from pocstack_emulator.ecs.fargate import parse_image
from pocstack_emulator.logs.awslogs import LogForwarder

LIVE = ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING")
DEFAULT_STOP_TIMEOUT = 30
# Seconds a container waits for a dependency's COMPLETE/SUCCESS/HEALTHY when the
# dependency sets no startTimeout. Unverified: the ContainerDefinition reference
# gives Fargate's startTimeout range (2-120 s) but no default here; 3 minutes is
# the agent's container start timeout default (ECS_CONTAINER_START_TIMEOUT, Linux).
DEFAULT_START_TIMEOUT = 180
# Docker's State.Health.Status -> ECS's healthStatus.
DOCKER_HEALTH = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY", "starting": "UNKNOWN"}
NANOSECONDS = 1_000_000_000
# ECS's defaults for what a healthCheck leaves out (HealthCheck, ECS API reference).
HEALTH_CHECK_DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def private_dns_name(eni, region):
    """The interface's private DNS name (moto gives one only with enableDnsHostnames; AWS always)."""
    found = getattr(eni, "private_dns_name", None)
    if found:
        return found
    suffix = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    return f"ip-{eni.private_ip_address.replace('.', '-')}.{suffix}"


def docker_healthcheck(definition):
    """The Docker healthcheck (docker-py's keys, times in nanoseconds) of a
    container definition; NONE switches off the image's own HEALTHCHECK,
    which ECS ignores (it runs only the task definition's)."""
    check = definition.get("healthCheck") or {}
    if not check.get("command"):
        return {"test": ["NONE"]}
    check = {**HEALTH_CHECK_DEFAULTS, **check}
    return {"test": list(check["command"]), "interval": int(check["interval"]) * NANOSECONDS,
            "timeout": int(check["timeout"]) * NANOSECONDS, "retries": int(check["retries"]),
            "start_period": int(check["startPeriod"]) * NANOSECONDS}


def health_checked(container):
    return bool((container.definition.get("healthCheck") or {}).get("command"))


def task_health(containers):
    """A task's healthStatus from its essential containers that have a health
    check, as ECS ranks them: UNHEALTHY if any is, else UNKNOWN if any is (or
    none has a check), else HEALTHY. Other containers do not count."""
    statuses = [c.health_status for c in containers if c.essential and health_checked(c)]
    if "UNHEALTHY" in statuses:
        return "UNHEALTHY"
    if not statuses or "UNKNOWN" in statuses:
        return "UNKNOWN"
    return "HEALTHY"


def agent_view(container, exit_code=None):
    """A container as the ECS agent prints it in its dependency errors:
    name(image) (known->desired status)[ - Exit: code]."""
    known = {"PENDING": "NONE"}.get(container.last_status, container.last_status)
    return f"{container.name}({container.image}) ({known}->RUNNING)" + \
        (f" - Exit: {exit_code}" if exit_code is not None else "")


class TaskContainer(BaseModel):
    """One container of a task, as DescribeTasks reports it."""

    def __init__(self, task, definition):
        self.definition = definition
        self.container_arn = f"arn:aws:ecs:{task.region_name}:{task.account_id}:container/{task.cluster_name}/" \
                             f"{task.id}/{uuid.uuid4()}"
        self.task_arn = task.task_arn
        self.name = definition["name"]
        self.image = definition.get("image")
        self.image_digest = None
        self.runtime_id = None
        self.last_status = "PENDING"
        self.exit_code = None
        self.reason = None
        self.network_bindings = []
        self.network_interfaces = [{"attachmentId": task.attachment_id, "privateIpv4Address": task.private_ip}]
        self.health_status = "UNKNOWN"
        self.cpu = str(definition.get("cpu", 0))
        self.memory = str(definition["memory"]) if definition.get("memory") else None
        self.memory_reservation = str(definition["memoryReservation"]) if definition.get("memoryReservation") else None
        self.essential = definition.get("essential", True)
        self.managed_agents = []  # ECS Exec's agent, once the container runs (execute.managed_agents)


class FargateTask(BaseModel):
    """The task record: what DescribeTasks and ListTasks answer."""

    def __init__(self, backend, cluster, service, deployment, task_definition, subnet, eni, public_ip):
        self.id = uuid.uuid4().hex
        self.account_id, self.region_name = backend.account_id, backend.region_name
        self.cluster_name, self.cluster_arn = cluster.name, cluster.arn
        self.service_name = service.name
        self.deployment_id = deployment["id"]
        self.task_definition = task_definition
        self.task_definition_arn = task_definition.arn
        self.container_instance_arn = None
        self.desired_status = "RUNNING"
        self.last_status = "PROVISIONING"
        self.health_status = "UNKNOWN"
        self.group = f"service:{service.name}"
        self.started_by = deployment["id"]
        self.launch_type = "FARGATE" if service.launch_type else None
        strategy = getattr(service, "capacity_provider_strategy", None)
        self.capacity_provider_name = (strategy[0].get("capacityProvider") if strategy else "FARGATE")
        self.platform_version = "1.4.0"
        self.platform_family = "Linux"
        self.availability_zone = subnet.availability_zone
        self.cpu = str(task_definition.cpu) if task_definition.cpu else None
        self.memory = str(task_definition.memory) if task_definition.memory else None
        self.connectivity = "CONNECTED"
        self.created_at = self.connectivity_at = now()
        self.pull_started_at = self.pull_stopped_at = self.started_at = None
        self.stopping_at = self.stopped_at = self.execution_stopped_at = None
        self.stop_code = self.stopped_reason = None
        self.overrides = {"containerOverrides": [{"name": c["name"]} for c in task_definition.container_definitions],
                          "inferenceAcceleratorOverrides": []}
        self.version = 1
        self.enable_execute_command = bool(getattr(service, "enable_execute_command", False))
        self.ephemeral_storage = {"sizeInGiB": 20}
        self.tags = list(service.tags or []) if service.propagate_tags == "SERVICE" else \
            list(task_definition.tags or []) if service.propagate_tags == "TASK_DEFINITION" else []
        self.eni = eni
        self.private_ip = eni.private_ip_address
        self.public_ip = public_ip
        self.subnet_id = subnet.id
        self.security_groups = [g.id for g in eni.group_set]
        self.attachment_id = str(uuid.uuid4())
        self.attachments = [{
            "id": self.attachment_id,
            "type": "ElasticNetworkInterface",
            "status": "ATTACHED",
            "details": [
                {"name": "subnetId", "value": subnet.id},
                {"name": "networkInterfaceId", "value": eni.id},
                {"name": "macAddress", "value": eni.mac_address},
                {"name": "privateDnsName", "value": private_dns_name(eni, backend.region_name)},
                {"name": "privateIPv4Address", "value": eni.private_ip_address},
            ],
        }]
        self.containers = [TaskContainer(self, c) for c in task_definition.container_definitions]
        # Load balancer registrations made for this task: [(target group ARN, port)].
        self.registrations = []
        self.failed = False  # stopped by a failure the circuit breaker counts

    @property
    def task_arn(self):
        return f"arn:aws:ecs:{self.region_name}:{self.account_id}:task/{self.cluster_name}/{self.id}"

    @property
    def status(self):
        return self.last_status

    def advance(self):
        """moto's DescribeTasks advances its own tasks' states; this one follows its containers."""

    @property
    def live(self):
        return self.desired_status == "RUNNING" and self.last_status in LIVE

    @property
    def container_health_checked(self):
        """Whether an essential container has a health check (then ECS counts
        the task healthy only once its healthStatus is HEALTHY)."""
        return any(c.essential and health_checked(c) for c in self.containers)


class TaskRunner(threading.Thread):
    """Takes one task from PROVISIONING to STOPPED (see the module's text)."""

    def __init__(self, plane, backend, task, service):
        super().__init__(name=f"task {task.id[:8]}", daemon=True)
        self.plane = plane
        self.backend = backend
        self.task = task
        self.service = service
        self.service_arn = service.arn
        self.finished_at = None  # monotonic time the task reached STOPPED
        self.load_balancers = [dict(lb) for lb in service.load_balancers or []]
        self.network = {"subnet": task.subnet_id, "public_ip": task.public_ip,
                        "security_groups": task.security_groups}
        self.wake = threading.Event()
        self.stop_request = None  # (stop code, reason, counts as a failure)
        self.fast = False  # reset or shutdown: no draining, no graceful stop
        self.docker = {}  # container name -> docker container
        self.exited = {}  # container name -> exit status dict
        self.forwarders = []
        self.holder = None  # the namespace holder, when the first container cannot hold it
        self.started = {}  # container name -> monotonic time it started

    # -- asked from outside (under the plane's lock) ---------------------------
    def request_stop(self, stop_code, reason, failure=False):
        if self.stop_request is None:
            self.stop_request = (stop_code, reason, failure)
        self.wake.set()

    def kill(self):
        self.fast = True
        self.request_stop("ServiceSchedulerInitiated", "The local emulator stopped")

    # -- the life cycle --------------------------------------------------------
    def run(self):
        try:
            self._start()
        except TaskFailed as failed:
            self._stopped_before_running(failed)
            return
        except Exception as e:  # an engine error the checks could not foresee
            import traceback

            print(f"data plane: task {self.task.id} failed to start:\n{traceback.format_exc()}", flush=True)
            self._stopped_before_running(TaskFailed(f"CannotStartContainerError: {type(e).__name__}: {e}"))
            return
        self._watch()
        self._stop()

    def _set(self, **fields):
        with self.plane.lock:
            for key, value in fields.items():
                setattr(self.task, key, value)
        self.plane.wake()

    def _start(self):
        task, plane = self.task, self.plane
        definitions = task.task_definition.container_definitions
        with plane.lock:
            task.last_status = "PENDING"
            for role in (getattr(task.task_definition, "execution_role_arn", None),
                         getattr(task.task_definition, "task_role_arn", None)):
                if role and not can_assume(task.backends["iam"], role, task.account_id, task.region_name,
                                           source_arn=task.task_arn):
                    raise TaskFailed(assume_role_error(role))
            checks = Checks(task.backends, task.account_id, task.region_name, task.id, task.task_definition,
                            self.network, task.private_ip)
            images = [parse_image(c.get("image")) for c in definitions]
            checks.registry_auth(images)
            secrets = checks.secrets(definitions)
            task.pull_started_at = now()
            for image in images:
                checks.image(image)
        if self.stop_request:
            raise TaskFailed(self.stop_request[1], self.stop_request[0])
        local_images = [plane.pull(image) for image in images]
        with plane.lock:
            task.pull_stopped_at = now()
            for container, image in zip(task.containers, images):
                container.image_digest = image.get("digest")
            streams = [checks.log_stream(c) for c in definitions]
        ports = [m["containerPort"] for d in definitions for m in d.get("portMappings") or []]
        holds = definitions[0].get("essential", True) and not definitions[0].get("dependsOn")
        first = None if holds else plane.create_holder(task, local_images[0], ports)
        self.holder = first
        for definition, image, found in zip(definitions, local_images, images):
            environment = {e["name"]: e["value"] for e in definition.get("environment") or []}
            environment.update(secrets.get(definition["name"], {}))
            environment.update({"AWS_EXECUTION_ENV": "AWS_ECS_FARGATE", "AWS_REGION": task.region_name,
                                "AWS_DEFAULT_REGION": task.region_name})
            container = plane.create_container(task, definition, image, environment, [] if first else ports,
                                               network_of=first, exec_format_error=plane.foreign_architecture(image, found.get("architecture")))
            self.docker[definition["name"]] = container
            if first is None:
                first = container
        if self.holder is not None:
            self.holder.start()
        if not self._start_in_order(streams):
            return
        published = plane.published_ports(first)
        with plane.lock:
            for container_port, host_port in published.items():
                plane.endpoints[(task.private_ip, container_port)] = ("127.0.0.1", host_port)
            task.started_at = now()
            task.health_status = "UNKNOWN"
            if self.load_balancers and not self.stop_request:
                task.last_status = "ACTIVATING"
                for lb in self.load_balancers:
                    if lb.get("targetGroupArn"):
                        plane.register_target(task, lb["targetGroupArn"], int(lb["containerPort"]))
            task.last_status = "RUNNING"
        plane.wake()

    def _start_in_order(self, streams):
        """Start the containers as their dependsOn conditions allow (see
        `blocked`); the task stays PENDING meanwhile. Answers whether the task
        may go on to RUNNING (every container started or given up on, and no
        stop asked for: an essential container that exited, or gave up)."""
        task = self.task
        definitions = {d["name"]: d for d in task.task_definition.container_definitions}
        waiting = list(task.containers)
        while waiting:
            for container in list(waiting):
                verdict = self.blocked(container, definitions)
                if verdict is None:
                    self._start_container(container, streams[list(definitions).index(container.name)])
                    waiting.remove(container)
                elif verdict is not True:  # it never can start: ECS stops it, as the agent does
                    self._give_up(container, verdict)
                    waiting.remove(container)
            if self.stop_request or self._essential_exited():
                return False
            if waiting:
                self.wake.wait(0.5)
                self.wake.clear()
                self._read_health()
        return not self.stop_request and not self._essential_exited()

    def blocked(self, container, definitions):
        """None when `container` may start now, True while it has to wait, or
        the reason it never can (the ECS agent's CannotStartContainerError
        texts, agent/engine/dependencygraph/graph.go: a SUCCESS dependency
        that exited non-zero; a dependency that did not reach its condition
        within its startTimeout, counted from its start)."""
        for dependency in container.definition.get("dependsOn") or []:
            name, condition = dependency["containerName"], dependency["condition"]
            other = next((c for c in self.task.containers if c.name == name), None)
            if other is None:  # RegisterTaskDefinition refuses it (strict): a definition from before
                return f"CannotStartContainerError: dependency graph: container ordering dependency [{name}] " \
                       f"for target [{agent_view(container)}] does not exist."
            exited = self.exited.get(name)
            if condition == "START" and name in self.started:
                continue
            if condition == "COMPLETE" and exited is not None:
                continue
            if condition == "SUCCESS" and exited is not None:
                if exited["code"] == 0:
                    continue
                return (f"CannotStartContainerError: dependency graph: failed to resolve container ordering "
                        f"dependency [{agent_view(other, exited['code'])}] for target [{agent_view(container)}] "
                        "as dependency did not exit successfully.")
            if condition == "HEALTHY" and other.health_status == "HEALTHY":
                continue
            if exited is not None and (condition == "HEALTHY" or name not in self.started):
                # stopped (or given up on) before it got there: it never will
                return (f"CannotStartContainerError: dependency graph: failed to resolve the container ordering "
                        f"dependency [{agent_view(other, exited['code'])}] for target [{agent_view(container)}]")
            started = self.started.get(name)
            timeout = int(definitions[name].get("startTimeout") or DEFAULT_START_TIMEOUT)
            if condition != "START" and started is not None and exited is None \
                    and time.monotonic() - started > timeout:
                # The agent's text; unverified: how Fargate words it in the container's reason.
                return (f"CannotStartContainerError: dependency graph: container ordering dependency "
                        f"[{agent_view(other)}] for target [{agent_view(container)}] has timed out.")
            return True
        return None

    def _start_container(self, container, stream):
        task, plane = self.task, self.plane
        docker_container = self.docker[container.name]
        docker_container.start()
        self.started[container.name] = time.monotonic()
        threading.Thread(target=self._wait_for_exit, args=(container.name, docker_container), daemon=True,
                         name=f"wait {task.id[:8]} {container.name}").start()
        with plane.lock:
            container.runtime_id = docker_container.id
            if container.name not in self.exited:
                container.last_status = "RUNNING"
            if task.enable_execute_command:
                container.managed_agents = managed_agents(now())
            if stream:
                forwarder = LogForwarder(docker_container, task.backends["logs"], stream["group"], stream["stream"],
                                         plane.lock)
                forwarder.start()
                self.forwarders.append(forwarder)
        plane.wake()

    def _give_up(self, container, reason):
        """A container whose dependencies can never be met: STOPPED with the
        agent's reason and exit code 143 (amazon-ecs-agent PR 3218); the task
        stops if it is essential ("Essential container in task exited")."""
        with self.plane.lock:
            container.last_status, container.exit_code, container.reason = "STOPPED", 143, reason
            self.exited[container.name] = {"code": 143, "oom": False, "reason": reason}
        self.plane.wake()

    def _essential_exited(self):
        if any(c.essential and c.name in self.exited for c in self.task.containers):
            with self.plane.lock:
                self.request_stop("EssentialContainerExited", "Essential container in task exited", failure=True)
            return True
        return False

    def _wait_for_exit(self, name, container):
        try:
            result = container.wait()
        except Exception:  # removed under us (reset): it exited
            result = {"StatusCode": 137}
        try:
            container.reload()
            oom = container.attrs.get("State", {}).get("OOMKilled", False)
        except Exception:
            oom = False
        self.exited[name] = {"code": result.get("StatusCode"), "oom": oom}
        with self.plane.lock:  # ECS reports a container's exit at once, before its task has stopped
            for container in self.task.containers:
                if container.name == name and not self.fast:
                    container.last_status, container.exit_code = "STOPPED", result.get("StatusCode")
                    if oom:
                        container.reason = "OutOfMemoryError: Container killed due to memory usage"
        self.wake.set()

    def _watch(self):
        while True:
            self.wake.wait(1.0)
            self.wake.clear()
            if self.stop_request:
                return
            self._read_health()
            if self._essential_exited():
                return

    def _read_health(self):
        """Docker's health verdicts into the containers' and the task's
        healthStatus (the scheduler stops a task whose status is UNHEALTHY)."""
        checked = [c for c in self.task.containers if health_checked(c) and c.name not in self.exited]
        found = {}
        for container in checked:
            try:
                docker_container = self.docker[container.name]
                docker_container.reload()
            except Exception:  # exiting or removed: its exit decides
                continue
            status = ((docker_container.attrs.get("State") or {}).get("Health") or {}).get("Status")
            found[container.name] = DOCKER_HEALTH.get(status, "UNKNOWN")
        if not found:
            return
        with self.plane.lock:
            before = self.task.health_status
            for container in checked:
                container.health_status = found.get(container.name, container.health_status)
            self.task.health_status = task_health(self.task.containers)
        if self.task.health_status != before:
            self.plane.wake()

    def _stop(self):
        task, plane = self.task, self.plane
        stop_code, reason, failure = self.stop_request
        with plane.lock:
            task.desired_status = "STOPPED"
            task.stop_code, task.stopped_reason = stop_code, reason
            task.failed = failure
            task.stopping_at = now()
            delay = 0.0
            if task.registrations:
                task.last_status = "DEACTIVATING"
                delay = plane.deregister_targets(task)
        plane.wake()
        if not self.fast and delay > 0:
            self.wake.clear()
            deadline = datetime.datetime.now().timestamp() + delay
            while not self.fast and datetime.datetime.now().timestamp() < deadline:
                self.wake.wait(min(1.0, max(0.0, deadline - datetime.datetime.now().timestamp())))
        self._set(last_status="STOPPING")
        timeout = 0 if self.fast else max(
            int(d.get("stopTimeout") or DEFAULT_STOP_TIMEOUT) for d in task.task_definition.container_definitions)
        for name in reversed(list(self.started)):  # dependents before their dependencies, as ECS stops them
            plane.stop_container(self.docker[name], timeout)
        if self.holder is not None:  # `sleep` as PID 1 ignores SIGTERM: nothing to wait for
            plane.stop_container(self.holder, 0)
        for name in self.started:
            deadline = datetime.datetime.now().timestamp() + 5
            while name not in self.exited and datetime.datetime.now().timestamp() < deadline:
                self.wake.wait(0.1)
        with plane.lock:
            for container in task.containers:
                exited = self.exited.get(container.name)
                container.last_status = "STOPPED"
                for agent in container.managed_agents:
                    agent["lastStatus"] = "STOPPED"
                if exited is not None:
                    container.exit_code = exited["code"]
                    if exited["oom"]:
                        container.reason = "OutOfMemoryError: Container killed due to memory usage"
            task.last_status = "DEPROVISIONING"
        plane.wake()
        for container in self._own_containers():
            plane.remove_container(container)
        for forwarder in self.forwarders:
            forwarder.join(timeout=5)
        self._release()

    def _stopped_before_running(self, failed):
        task, plane = self.task, self.plane
        for container in self._own_containers():
            plane.remove_container(container)
        with plane.lock:
            task.desired_status = "STOPPED"
            if self.stop_request and not self.stop_request[2] and failed.reason == self.stop_request[1]:
                task.stop_code, task.stopped_reason, task.failed = self.stop_request[0], failed.reason, False
            else:
                task.stop_code, task.stopped_reason, task.failed = failed.stop_code, failed.reason, True
            task.stopping_at = now()
            for container in task.containers:
                container.last_status = "STOPPED"
                if failed.container in (None, container.name):
                    container.reason = failed.container_reason
            task.last_status = "DEPROVISIONING"
        self._release()

    def _own_containers(self):
        return [*self.docker.values(), *([self.holder] if self.holder is not None else [])]

    def _release(self):
        task, plane = self.task, self.plane
        with plane.lock:
            plane.release_network(task)
            task.attachments[0]["status"] = "DELETED"
            task.last_status = "STOPPED"
            task.stopped_at = task.execution_stopped_at = now()
            self.finished_at = time.monotonic()
        plane.wake()
