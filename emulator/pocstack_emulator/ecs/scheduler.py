"""The ECS service scheduler: deployments, rolling updates, the circuit breaker.

moto stores a service and one deployment and never changes either again. Here,
as the ECS developer guide describes the rolling update deployment type:

- CreateService starts a PRIMARY deployment; an UpdateService that changes the
  task definition, the network configuration or the load balancer entries,
  or forces a new deployment,
  starts a new PRIMARY one, and the previous ones turn ACTIVE.
- The PRIMARY deployment gets tasks until it runs the desired count, never
  more than `maximumPercent` of it alive at once across deployments; tasks of
  older deployments stop while at least `minimumHealthyPercent` of the desired
  count stays healthy (RUNNING, and healthy in every target group once
  registered). A deployment without tasks left disappears.
- A RUNNING task whose target turns `unhealthy` after the service's health
  check grace period is stopped ("Task failed ELB health checks in ...") and
  replaced; so is one whose healthStatus turns UNHEALTHY (an essential
  container failed its container health check: "Task failed container
  health checks"). A task with a container health check counts as healthy
  only once its healthStatus is HEALTHY.
- A task that stops by failure (start-up checks, an essential container that
  exits, failed health checks) counts in its deployment's `failedTasks`; with
  the circuit breaker on, `failedTasks` reaching the threshold (50 % of the
  desired count, at least 3, at most 200) fails the deployment, and with
  rollback on ECS starts a deployment of the last COMPLETED task definition.
  With the breaker off, ECS throttles the relaunches of a service whose tasks
  keep failing.
- The PRIMARY deployment is COMPLETED once it alone runs the desired count,
  every task healthy; the service then "has reached a steady state".

Service events use ECS's sentences. Everything here runs under the data
plane's lock, on the scheduler thread, and reads the clock through `now`.
"""
import datetime
import math
import random
import time
import uuid

MAX_EVENTS = 100
# ECS throttles the launches of a service whose tasks keep failing; the first
# failures are retried at once, then with a growing delay (capped here, so a
# test or a user who fixes the cause sees it recover quickly).
FREE_RETRIES = 3
MAX_BACKOFF = 60.0


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def deployment_id():
    return f"ecs-svc/{random.randint(10 ** 18, 10 ** 19 - 1)}"


def failure_threshold(configuration, desired):
    """AWS's formula: 50 % of the desired count, at least 3, at most 200."""
    return min(200, max(3, math.ceil(0.5 * desired)))


class ServiceState:
    """What the scheduler remembers of one service beyond moto's record."""

    def __init__(self):
        self.completed_task_definition = None  # of the last COMPLETED deployment
        self.consecutive_failures = 0
        self.backoff_until = 0.0
        self.throttled_said = False
        self.steady = False
        self.counted = set()  # ARNs of stopped tasks already counted as failures
        self.unhealthy_said = set()


class Scheduler:
    """Reconciles every ECS service with its tasks (see the module's text)."""

    def __init__(self, plane):
        self.plane = plane
        self.states = {}  # service ARN -> ServiceState

    # -- the API side (called from the patched moto methods, under the lock) --
    def created(self, service):
        state = self.states.setdefault(service.arn, ServiceState())
        deployment = service.deployments[0] if service.deployments else None
        if deployment is not None:
            deployment.update(rolloutState="IN_PROGRESS", runningCount=0, pendingCount=0, failedTasks=0,
                              rolloutStateReason=f"ECS deployment {deployment['id']} in progress.")
        service.running_count, service.pending_count = 0, 0
        state.steady = False

    def updated(self, service, new_deployment):
        state = self.states.setdefault(service.arn, ServiceState())
        if new_deployment:
            self.start_deployment(service, service.task_definition)
        state.steady = False
        state.backoff_until = 0.0
        state.consecutive_failures = 0
        state.throttled_said = False

    def refresh(self, service):
        """Counts from the tasks (moto's UpdateService sets runningCount to the desired count)."""
        self._refresh_counts(service, [t for t in self.plane.service_tasks(service) if t.desired_status == "RUNNING"])

    def deleted(self, service):
        state = self.states.get(service.arn)
        if state is not None:
            state.steady = False

    def start_deployment(self, service, task_definition, reason=None):
        """A new PRIMARY deployment of `task_definition`; the others turn ACTIVE."""
        now = utcnow()
        for deployment in service.deployments:
            deployment["status"] = "ACTIVE"
            deployment["updatedAt"] = now
        new = {
            "id": deployment_id(),
            "status": "PRIMARY",
            "taskDefinition": task_definition,
            "desiredCount": service.desired_count,
            "pendingCount": 0,
            "runningCount": 0,
            "failedTasks": 0,
            "createdAt": now,
            "updatedAt": now,
            "platformVersion": service.platform_version or "LATEST",
            "platformFamily": "Linux",
            "networkConfiguration": getattr(service, "network_configuration", None) or None,
            "rolloutState": "IN_PROGRESS",
            "rolloutStateReason": reason or "ECS deployment {id} in progress.",
        }
        new["rolloutStateReason"] = new["rolloutStateReason"].replace("{id}", new["id"])
        strategy = getattr(service, "capacity_provider_strategy", None)
        if strategy:
            new["capacityProviderStrategy"] = strategy
        else:
            new["launchType"] = service.launch_type or "FARGATE"
        service.deployments.insert(0, new)
        service.task_definition = task_definition
        return new

    # -- the scheduler thread ---------------------------------------------------
    def reconcile(self, backend, service):
        state = self.states.setdefault(service.arn, ServiceState())
        tasks = self.plane.service_tasks(service)
        live = [t for t in tasks if t.desired_status == "RUNNING"]
        self._count_failures(service, state, tasks)
        if service.status != "ACTIVE":
            for task in live:
                self._stop(service, task, "ServiceSchedulerInitiated", "Service is being deleted")
            self._refresh_counts(service, [])
            return
        if not service.deployments:
            return
        primary = service.deployments[0]
        desired = int(service.desired_count or 0)
        config = getattr(service, "deployment_configuration", None) or {}
        max_total = math.floor(desired * int(config.get("maximumPercent", 200)) / 100)
        min_healthy = math.ceil(desired * int(config.get("minimumHealthyPercent", 100)) / 100)

        self._replace_unhealthy(service, live)
        live = [t for t in live if t.desired_status == "RUNNING"]
        self._circuit_breaker(service, state, primary, desired, config)
        primary = service.deployments[0]

        by_deployment = {}
        for task in live:
            by_deployment.setdefault(task.started_by, []).append(task)
        ours = by_deployment.get(primary["id"], [])
        others = [t for t in live if t.started_by != primary["id"]]

        # Scale in the PRIMARY deployment above its desired count (unhealthy first).
        if len(ours) > desired:
            kept = sorted(ours, key=self._keep_order)
            for task in kept[desired:]:
                self._stop(service, task, "ServiceSchedulerInitiated",
                           f"Scaling activity initiated by (deployment {primary['id']})")
            ours = kept[:desired]

        # Launch for the PRIMARY deployment, within maximumPercent.
        # A deployment the circuit breaker failed (rollback off, or nothing to
        # roll back to) gets no more tasks.
        launching = primary["rolloutState"] != "FAILED"
        need = desired - len([t for t in ours if t.desired_status == "RUNNING"])
        room = max(max_total, desired if not others else 0) - len(ours) - len(others)
        if launching and need > 0 and room > 0:
            if time.monotonic() < state.backoff_until:
                if not state.throttled_said:
                    self.event(service, f"(service {service.name}) is unable to consistently start tasks "
                                        "successfully. For more information, see the Troubleshooting section of the "
                                        "Amazon ECS Developer Guide.")
                    state.throttled_said = True
            else:
                started = [self.plane.launch(backend, service, primary) for _ in range(min(need, room))]
                started = [t for t in started if t is not None]
                if started:
                    self.event(service, f"(service {service.name}) has started {len(started)} tasks: "
                                        + " ".join(f"(task {t.id})" for t in started) + ".")
                    ours += started

        # Stop tasks of older deployments while enough healthy ones stay.
        healthy = sum(1 for t in ours + others if self.plane.task_healthy(t))
        stopped = []
        for task in sorted(others, key=self._keep_order, reverse=True):
            if not self.plane.task_healthy(task):
                stopped.append(task)
            elif healthy - 1 >= min_healthy or desired == 0:
                stopped.append(task)
                healthy -= 1
        for task in stopped:
            self._stop(service, task, "ServiceSchedulerInitiated",
                       f"Scaling activity initiated by (deployment {primary['id']})")
        if stopped:
            self.event(service, f"(service {service.name}) has stopped {len(stopped)} running tasks: "
                                + " ".join(f"(task {t.id})" for t in stopped) + ".")

        # Deployments without live tasks are gone; the PRIMARY one stays, and so
        # does a FAILED one until the rollback that replaced it completes (as
        # DescribeServices shows a rollback in progress).
        live = [t for t in self.plane.service_tasks(service) if t.desired_status == "RUNNING"]
        alive = {t.started_by for t in live}
        rolling_back = primary["rolloutState"] == "IN_PROGRESS"
        service.deployments[:] = [d for d in service.deployments if d is primary or d["id"] in alive
                                  or (rolling_back and d["rolloutState"] == "FAILED")]
        self._refresh_counts(service, live)
        self._completion(service, state, primary, live, desired)

    # -- pieces -------------------------------------------------------------------
    def _keep_order(self, task):
        """Sort key: tasks worth keeping first (healthy, running, oldest)."""
        return (not self.plane.task_healthy(task), task.last_status != "RUNNING", task.created_at)

    def _stop(self, service, task, stop_code, reason, failure=False):
        runner = self.plane.runners.get(task.task_arn)
        if runner is not None:
            runner.request_stop(stop_code, reason, failure)
        task.desired_status = "STOPPED"

    def _replace_unhealthy(self, service, live):
        grace = int(getattr(service, "health_check_grace_period_seconds", None) or 0)
        for task in live:
            if task.last_status != "RUNNING" or task.started_at is None:
                continue
            if (utcnow() - task.started_at).total_seconds() < grace:
                continue
            if task.health_status == "UNHEALTHY":
                self.event(service, f"(service {service.name}) (task {task.id}) failed container health checks.")
                self._stop(service, task, "ServiceSchedulerInitiated", "Task failed container health checks",
                           failure=True)
                self.event(service, f"(service {service.name}) has stopped 1 running tasks: (task {task.id}).")
                continue
            for group_arn, target_id, port in task.registrations:
                found = self.plane.target_state(group_arn, target_id, port)
                if found and found[0] == "unhealthy":
                    key = (task.task_arn, group_arn)
                    state = self.states[service.arn]
                    if key not in state.unhealthy_said:
                        state.unhealthy_said.add(key)
                        self.event(service, f"(service {service.name}) (port {port}) is unhealthy in (target-group "
                                            f"{group_arn}) due to (reason {found[2]}).")
                    self._stop(service, task, "ServiceSchedulerInitiated",
                               f"Task failed ELB health checks in (target-group {group_arn})", failure=True)
                    self.event(service, f"(service {service.name}) has stopped 1 running tasks: (task {task.id}).")
                    break

    def _count_failures(self, service, state, tasks):
        for task in tasks:
            if task.last_status != "STOPPED" and not (task.desired_status == "STOPPED" and task.failed):
                continue
            if not task.failed or task.task_arn in state.counted:
                continue
            state.counted.add(task.task_arn)
            for deployment in service.deployments:
                if deployment["id"] == task.started_by:
                    deployment["failedTasks"] = deployment.get("failedTasks", 0) + 1
                    deployment["updatedAt"] = utcnow()
            state.consecutive_failures += 1
            if state.consecutive_failures > FREE_RETRIES:
                delay = min(MAX_BACKOFF, 5.0 * 2 ** (state.consecutive_failures - FREE_RETRIES - 1))
                state.backoff_until = time.monotonic() + delay
            state.steady = False

    def _circuit_breaker(self, service, state, primary, desired, config):
        breaker = config.get("deploymentCircuitBreaker") or {}
        if not breaker.get("enable") or primary["rolloutState"] != "IN_PROGRESS":
            return
        if primary.get("failedTasks", 0) < failure_threshold(breaker, desired):
            return
        primary["rolloutState"] = "FAILED"
        primary["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
        primary["updatedAt"] = utcnow()
        self.event(service, f"(service {service.name}) (deployment {primary['id']}) deployment failed: "
                            "tasks failed to start.")
        target = state.completed_task_definition
        if breaker.get("rollback") and target and target != primary["taskDefinition"]:
            rolled = self.start_deployment(
                service, target, reason=f"ECS deployment circuit breaker: rolling back to deploymentId {primary['id']}.")
            self.event(service, f"(service {service.name}) (deployment {primary['id']}) rolling back to deployment "
                                f"{rolled['id']}.")
            state.consecutive_failures, state.backoff_until, state.throttled_said = 0, 0.0, False

    def _refresh_counts(self, service, live):
        running = {}
        pending = {}
        for task in live:
            bucket = running if task.last_status == "RUNNING" else pending
            bucket[task.started_by] = bucket.get(task.started_by, 0) + 1
        for deployment in service.deployments:
            deployment["runningCount"] = running.get(deployment["id"], 0)
            deployment["pendingCount"] = pending.get(deployment["id"], 0)
            if deployment["status"] == "PRIMARY":
                deployment["desiredCount"] = int(service.desired_count or 0)
            else:
                deployment["desiredCount"] = deployment["runningCount"] + deployment["pendingCount"]
        service.running_count = sum(running.values())
        service.pending_count = sum(pending.values())

    def _completion(self, service, state, primary, live, desired):
        ours = [t for t in live if t.started_by == primary["id"]]
        others = [t for t in live if t.started_by != primary["id"]]
        steady = (not others and len(ours) == desired and primary["rolloutState"] != "FAILED"
                  and all(self.plane.task_healthy(t) for t in ours))
        if steady and primary["rolloutState"] == "IN_PROGRESS":
            service.deployments[:] = [primary]
            primary["rolloutState"] = "COMPLETED"
            primary["rolloutStateReason"] = f"ECS deployment {primary['id']} completed."
            primary["updatedAt"] = utcnow()
            state.completed_task_definition = primary["taskDefinition"]
            self.event(service, f"(service {service.name}) (deployment {primary['id']}) deployment completed.")
        if steady and primary["rolloutState"] == "COMPLETED":
            state.consecutive_failures, state.backoff_until, state.throttled_said = 0, 0.0, False
            if not state.steady:
                self.event(service, f"(service {service.name}) has reached a steady state.")
        state.steady = steady

    @staticmethod
    def event(service, message):
        service.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": utcnow(), "message": message})
        del service.events[MAX_EVENTS:]
