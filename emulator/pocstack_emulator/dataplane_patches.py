"""Where the data plane hooks into moto (installed only when it runs).

Each hook wraps one moto backend method, runs under the data plane's lock
(server.py takes it around every API call) and says what AWS does that moto
does not:

- ECS CreateService: AWS starts a deployment that gets tasks; moto stores the
  service and runs nothing. Hook: the scheduler reconciles it.
- ECS UpdateService: a new task definition, network configuration, load
  balancer entries or forceNewDeployment starts a new PRIMARY deployment (the old one turns
  ACTIVE and drains), and the service reports the task definition's ARN.
  moto overwrites its one deployment, stores the task definition as given
  (`family:revision`) and reports runningCount = desiredCount. Hook: a new
  deployment, the ARN, counts from the tasks.
- ECS DeleteService: AWS stops the service's tasks; moto only marks it
  INACTIVE. Hook: its tasks stop.
- ECS ListTasks: `serviceName` selects the service's tasks and, without
  `desiredStatus`, only RUNNING ones are listed; moto ignores `serviceName`
  and lists every task. Hook: both filters.
- ECS StopTask: the task stops (stopCode UserInitiated); moto sets STOPPED
  at once. Hook: the task stops as any other.
- ECS ExecuteCommand: a Session Manager session into a running task's
  container, or AWS's refusals; moto has no such action. Added:
  ecs/execute.py.
- ELBv2 DescribeTargetHealth reports what the health checks saw, draining
  targets included; moto says `healthy` at once. Hook: target_health.py.
- ELBv2 DeregisterTargets: the target drains for the group's deregistration
  delay; moto forgets it at once. Hook: draining.
- ELBv2 DeleteTargetGroup also ends its health checks. Hook: they end.
- /moto-api/reset forgets every resource. Hook: every task's containers are
  removed first.
"""
import json


def install(plane):
    from pocstack_emulator.ecs import execute

    _ecs(plane)
    execute.install(plane)
    _elbv2(plane)
    _reset(plane)


def _load_balancers(service):
    return sorted(json.dumps(lb, sort_keys=True, default=str) for lb in service.load_balancers or [])


def _ecs(plane):
    from moto.ecs import models

    cls = models.EC2ContainerServiceBackend
    create, update, delete = cls.create_service, cls.update_service, cls.delete_service
    list_tasks, stop_task = cls.list_tasks, cls.stop_task

    def create_service(self, *args, **kwargs):
        service = create(self, *args, **kwargs)
        plane.scheduler.created(service)
        plane.wake()
        return service

    def update_service(self, service_properties):
        service = self._get_service(service_properties.get("cluster", "default"),
                                    service_properties["service"].split("/")[-1])
        # A new deployment when the task definition, the network configuration or
        # the load balancer entries change (UpdateService's API reference).
        before = (service.task_definition, repr(getattr(service, "network_configuration", None)),
                  _load_balancers(service))
        force = bool(service_properties.get("force_new_deployment"))
        deployment_ids = [d["id"] for d in service.deployments]
        service = update(self, service_properties)
        # moto stores what was given (family:revision); AWS reports the ARN.
        if service.task_definition and not service.task_definition.startswith("arn:"):
            service.task_definition = self.describe_task_definition(service.task_definition).arn
        for deployment, old_id in zip(service.deployments, deployment_ids):
            deployment["id"] = old_id  # moto renames the deployment on forceNewDeployment
        after = (service.task_definition, repr(getattr(service, "network_configuration", None)),
                 _load_balancers(service))
        plane.scheduler.updated(service, new_deployment=force or before != after)
        plane.scheduler.refresh(service)
        plane.wake()
        return service

    def delete_service(self, *args, **kwargs):
        service = delete(self, *args, **kwargs)
        plane.scheduler.deleted(service)
        plane.scheduler.reconcile(self, service)
        plane.wake()
        return service

    def list_tasks_(self, cluster_str=None, container_instance=None, family=None, started_by=None,
                    service_name=None, desiredStatus=None):
        found = list_tasks(self, cluster_str, container_instance, family, started_by, None, desiredStatus)
        if service_name:
            name = service_name.split("/")[-1]
            found = [t for t in found if getattr(t, "group", None) == f"service:{name}"]
        if not desiredStatus:
            found = [t for t in found if t.desired_status == "RUNNING"]
        return found

    def stop_task_(self, cluster_str, task_str, reason):
        runner = next((r for arn, r in plane.runners.items() if arn.endswith("/" + task_str.split("/")[-1])), None)
        if runner is None:
            return stop_task(self, cluster_str, task_str, reason)
        runner.request_stop("UserInitiated", reason or "Task stopped by user")
        runner.task.desired_status = "STOPPED"
        plane.wake()
        return runner.task

    cls.create_service, cls.update_service, cls.delete_service = create_service, update_service, delete_service
    cls.list_tasks, cls.stop_task = list_tasks_, stop_task_


def _elbv2(plane):
    from moto.elbv2 import models

    cls = models.ELBv2Backend
    register, deregister = cls.register_targets, cls.deregister_targets
    delete_group = cls.delete_target_group

    def describe_target_health(self, target_group_arn, targets):
        group = self.target_groups.get(target_group_arn)
        if group is None:
            raise models.TargetGroupNotFoundError()
        if not targets:
            targets = [dict(t) for t in group.targets.values()]
            targets += [{"Id": target_id, "Port": port} for target_id, port in plane.health.draining_targets(group)]
        answers = []
        for target in targets:
            port = int(target.get("Port") or group.port or 0)
            state = plane.health.describe(group, target["Id"], port)
            if state is None:
                answers.append(group.health_for(target, self.ec2_backend))  # moto's "unused: not registered"
                continue
            status, reason, description = state
            answers.append(models.FakeHealthStatus(target["Id"], port, group.health_check_port, status, reason,
                                                   description))
        return answers

    def register_targets(self, target_group_arn, instances):
        register(self, target_group_arn, instances)
        group = self.target_groups[target_group_arn]
        plane.health.registered(group, instances)

    def deregister_targets(self, target_group_arn, instances):
        group = self.target_groups.get(target_group_arn)
        deregister(self, target_group_arn, instances)
        plane.health.deregistered(group, instances)

    def delete_target_group(self, target_group_arn):
        result = delete_group(self, target_group_arn)
        plane.health.forget_group(target_group_arn)
        return result

    cls.describe_target_health = describe_target_health
    cls.register_targets, cls.deregister_targets = register_targets, deregister_targets
    cls.delete_target_group = delete_target_group


def _reset(plane):
    from moto.moto_api._internal.models import MotoAPIBackend

    original = MotoAPIBackend.reset

    def reset(self):
        plane.kill_all()
        return original(self)

    MotoAPIBackend.reset = reset
