#!/usr/bin/env python3
"""The embedded local AWS emulator: a moto server on 127.0.0.1 with fidelity fixes.

    python tests/emulator/pocstack_emulator.py start|stop|status|run [--port 4566] [--state-dir DIR] [--throttle 0.1]

`start` runs `run` in the background (pid and log in DIR, default
.pocstack/emulator), waits until it answers and returns; it does nothing when
the emulator already answers. `stop` ends it (SIGTERM, then SIGKILL after
10 s) and is not an error when nothing runs. `status` exits 0 if it answers,
3 if not. `run` serves in the foreground. The port defaults to
$POCSTACK_EMULATOR_PORT or 4566; only 127.0.0.1 is ever bound.

Besides moto's API the server answers:
  GET  /_pocstack/health        {"status": "ok"} (how start/status recognise it)
  GET  /_pocstack/calls         {"reads": n, "writes": m, "calls": {"ecs:CreateService": k},
                                 "throttled": t, "throttled_calls": {...}, "throttle_rate": r}
  POST /_pocstack/calls/reset   zero the counters
  POST /_pocstack/throttle      {"rate": 0.1, "seed": 7}: answer that share of AWS calls
                                with the service's throttling error (0 turns it off)
  POST /moto-api/reset          forget every resource (moto's own)

A requested (DNS-validated) ACM certificate turns ISSUED once its validation
records exist in Route 53 and $MOTO_ACM_VALIDATION_WAIT seconds (default here
3, moto's own 60) have passed since the request.

Each fix in PATCHES makes moto answer as AWS does where the project depends
on it; tests/emulator/README.md lists them, tests/integration/emulator tests them.

With `--registry URL` (or $POCSTACK_EMULATOR_REGISTRY), e.g. a local
`docker-registry` on http://127.0.0.1:5000, the emulator is also ECR's image
registry: GetAuthorizationToken names the emulator as proxyEndpoint, and the
Docker registry v2 API under /v2/ is forwarded to URL, each pushed manifest
recorded in moto's ECR (see "ECR registry" below).
Standard library, moto and werkzeug only.
"""
from __future__ import annotations

import argparse
import base64
import collections
import hashlib
import inspect
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs

HOST = "127.0.0.1"
DEFAULT_PORT = int(os.environ.get("POCSTACK_EMULATOR_PORT") or 4566)
_SOURCE_ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
# A checkout keeps the state in its own .pocstack/emulator. An installed
# collection (no galaxy.yml: Galaxy does not ship it) may sit in a read-only
# path, so there it is .pocstack/emulator of the current directory.
DEFAULT_STATE_DIR = (
    os.path.join(_SOURCE_ROOT, ".pocstack", "emulator")
    if os.path.isfile(os.path.join(_SOURCE_ROOT, "galaxy.yml"))
    else os.path.join(".pocstack", "emulator")
)
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet", "Head", "Search", "Lookup")
START_TIMEOUT = 60
# Seconds a requested certificate stays PENDING_VALIDATION once its DNS records
# exist (moto's MOTO_ACM_VALIDATION_WAIT, default 60 there): short, so that a
# deploy with a requested certificate waits seconds, yet still long enough that
# a waiter is exercised. The environment variable, if set, wins.
ACM_VALIDATION_WAIT = 3
STOP_TIMEOUT = 10
NOT_RUNNING = 3


# ------------------------------------------------------------------------ fixes
# Each fix is small, says what AWS really returns, and is tested in
# tests/integration/emulator/test_emulator.py. Never bend role logic to moto.

def patch_elbv2_alb_default_attributes():
    """ELBv2 DescribeLoadBalancerAttributes.

    AWS: an application load balancer reports every attribute, with its
    default, from the moment it exists (idle_timeout.timeout_seconds 60,
    routing.http2.enabled true, desync mitigation "defensive", cross-zone
    load balancing always true for ALBs, ...).
    moto 5.2.5: returns only access_logs.s3.bucket/prefix,
    deletion_protection.enabled and load_balancing.cross_zone.enabled (false)
    until an attribute is set, so amazon.aws.elb_application_lb with
    `idle_timeout` fails with KeyError 'idle_timeout_timeout_seconds'.
    Fix: new ALBs start with AWS's defaults (values set later still win).
    """
    from moto.elbv2 import models

    defaults = {
        "access_logs.s3.enabled": "false",
        "access_logs.s3.bucket": "",
        "access_logs.s3.prefix": "",
        "client_keep_alive.seconds": "3600",
        "connection_logs.s3.enabled": "false",
        "connection_logs.s3.bucket": "",
        "connection_logs.s3.prefix": "",
        "deletion_protection.enabled": "false",
        "idle_timeout.timeout_seconds": "60",
        "load_balancing.cross_zone.enabled": "true",
        "routing.http.desync_mitigation_mode": "defensive",
        "routing.http.drop_invalid_header_fields.enabled": "false",
        "routing.http.preserve_host_header.enabled": "false",
        "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": "false",
        "routing.http.xff_client_port.enabled": "false",
        "routing.http.xff_header_processing.mode": "append",
        "routing.http2.enabled": "true",
        "waf.fail_open.enabled": "false",
        "zonal_shift.config.enabled": "false",
    }
    original = models.FakeLoadBalancer.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.type == "application":
            self.attrs.update(defaults)

    models.FakeLoadBalancer.__init__ = __init__


def patch_elbv2_set_rule_priorities():
    """ELBv2 SetRulePriorities.

    AWS: applies all given priorities at once and rejects the call only if
    the *resulting* rules of a listener share a priority, so two rules can be
    swapped in one call and setting a rule to its own priority is a no-op.
    moto 5.2.5: checks each new priority against the current ones, including
    the rule being moved, so both of those answer PriorityInUse.
    Fix: validate the listener's final state instead.
    """
    from moto.elbv2 import models
    from moto.elbv2.exceptions import DuplicatePriorityError
    from moto.elbv2.exceptions import PriorityInUseError

    def set_rule_priorities(self, rule_priorities):
        priorities = [rp["Priority"] for rp in rule_priorities]
        for priority in set(priorities):
            if priorities.count(priority) > 1:
                raise DuplicatePriorityError(priority)
        moves = [(self.describe_rules(None, [rp["RuleArn"]])[0], rp["Priority"]) for rp in rule_priorities]
        new = {rule.arn: priority for rule, priority in moves}
        for rule, priority in moves:
            listener = self.describe_listeners(None, [rule.listener_arn])[0]
            for other in listener.rules.values():
                if other.arn != rule.arn and new.get(other.arn, other.priority) == priority:
                    raise PriorityInUseError()
        for rule, priority in moves:
            rule.priority = priority
        return [rule for rule, _ in moves]

    models.ELBv2Backend.set_rule_priorities = set_rule_priorities


ELBV2_ACTION_DEFAULTS = {
    "RedirectConfig": {
        "Protocol": "#{protocol}", "Port": "#{port}", "Host": "#{host}", "Path": "/#{path}", "Query": "#{query}",
    },
    "AuthenticateOidcConfig": {
        "SessionCookieName": "AWSELBAuthSessionCookie", "Scope": "openid", "SessionTimeout": 604800,
        "OnUnauthenticatedRequest": "authenticate",
    },
    "AuthenticateCognitoConfig": {
        "SessionCookieName": "AWSELBAuthSessionCookie", "Scope": "openid", "SessionTimeout": 604800,
        "OnUnauthenticatedRequest": "authenticate",
    },
}


def patch_elbv2_action_shape():
    """ELBv2 rule and listener actions as Describe*/Create*/Modify* return them.

    AWS: never returns an OIDC action's ClientSecret (nor
    UseExistingClientSecret) from any call; fills in what was omitted:
    a redirect's Protocol #{protocol}, Port #{port}, Host #{host},
    Path /#{path}, Query #{query}; an OIDC or Cognito action's
    SessionCookieName AWSELBAuthSessionCookie, Scope openid, SessionTimeout
    604800, OnUnauthenticatedRequest authenticate.
    moto 5.2.5: stores and returns actions exactly as given, so the client
    secret comes back in DescribeRules and omitted settings stay missing.
    Fix: fill AWS's defaults in and keep the secret out of what is stored
    (nothing in the emulator uses it).
    """
    from moto.elbv2 import models

    original = models.FakeAction.__init__

    def __init__(self, data):
        for key, defaults in ELBV2_ACTION_DEFAULTS.items():
            config = data.get(key)
            if isinstance(config, dict):
                for name, value in defaults.items():
                    if config.get(name) is None:
                        config[name] = value
                if key == "AuthenticateOidcConfig":
                    config.pop("ClientSecret", None)
                    config.pop("UseExistingClientSecret", None)
        original(self, data)

    models.FakeAction.__init__ = __init__
def patch_elbv2_target_group_attributes():
    """ELBv2 DescribeTargetGroupAttributes / ModifyTargetGroupAttributes.

    AWS: an HTTP/HTTPS target group reports every attribute with its default
    from the moment it exists, among them stickiness.lb_cookie.duration_seconds
    and stickiness.app_cookie.duration_seconds (86400),
    stickiness.app_cookie.cookie_name ("") and
    load_balancing.algorithm.anomaly_mitigation ("off");
    deregistration_delay.timeout_seconds accepts 0-3600 inclusive.
    moto 5.2.5: leaves those four out until they are set (a module comparing
    the stickiness duration reports a change AWS would not), and rejects 3600
    (it checks range(0, 3600)).
    Fix: new HTTP/HTTPS groups start with those defaults; 3600 is accepted.
    """
    from moto.elbv2 import models

    defaults = {
        "load_balancing.algorithm.anomaly_mitigation": "off",
        "stickiness.app_cookie.cookie_name": "",
        "stickiness.app_cookie.duration_seconds": "86400",
        "stickiness.lb_cookie.duration_seconds": "86400",
    }
    delay = "deregistration_delay.timeout_seconds"
    original_init = models.FakeTargetGroup.__init__
    original_modify = models.ELBv2Backend.modify_target_group_attributes

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.protocol in ("HTTP", "HTTPS"):
            self.attributes.update(defaults)

    def modify_target_group_attributes(self, target_group_arn, attributes):
        if str(attributes.get(delay, "")).strip() != "3600":
            return original_modify(self, target_group_arn, attributes)
        original_modify(self, target_group_arn, {**attributes, delay: "3599"})  # every other check still runs
        self.target_groups[target_group_arn].attributes[delay] = attributes[delay]

    models.FakeTargetGroup.__init__ = __init__
    models.ELBv2Backend.modify_target_group_attributes = modify_target_group_attributes


def patch_elbv2_target_group_load_balancer_arns():
    """ELBv2 DescribeTargetGroups LoadBalancerArns.

    AWS: lists the load balancers whose listeners forward to the group now
    (default action or rule, plain or weighted), each once; switching a rule
    to another group or deleting it updates both groups.
    moto 5.2.5: appends the load balancer on CreateRule/CreateListener only
    (once per rule), never on ModifyRule and never removes it, so a group
    a rule was switched to shows no load balancer and the old one still does.
    Fix: work the list out from the listeners whenever groups are described.
    """
    from moto.elbv2 import models

    original = models.ELBv2Backend.describe_target_groups

    def describe_target_groups(self, load_balancer_arn, target_group_arns, names):
        users = collections.defaultdict(list)
        for balancer in self.load_balancers.values():
            for listener in balancer.listeners.values():
                for rule in listener.rules.values():  # the default rule included
                    for action in rule.actions:
                        for arn in self._get_target_group_arns_from(action_data=action.data):
                            if balancer.arn not in users[arn]:
                                users[arn].append(balancer.arn)
        for group in self.target_groups.values():
            group.load_balancer_arns = users.get(group.arn, [])
        return original(self, load_balancer_arn, target_group_arns, names)

    models.ELBv2Backend.describe_target_groups = describe_target_groups


ECS_DEPLOYMENT_DEFAULTS = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}


def patch_ecs_service_deployment_fields():
    """ECS deploymentConfiguration and healthCheckGracePeriodSeconds.

    AWS: CreateService stores both and CreateService, UpdateService and
    DescribeServices return them. deploymentConfiguration defaults to
    maximumPercent 200, minimumHealthyPercent 100 and circuit breaker
    {enable: false, rollback: false}; healthCheckGracePeriodSeconds defaults
    to 0 for a service behind a load balancer (a service without one and
    without the parameter does not report it).
    moto 5.2.5: CreateService accepts and drops both; UpdateService replaces
    deploymentConfiguration wholesale (community.aws.ecs_service sends {} when
    none is configured, which erased it).
    Fix: store both on create with AWS's defaults; UpdateService merges the
    given deploymentConfiguration keys into the stored ones.
    """
    from moto.ecs import responses

    cls = responses.EC2ContainerServiceResponse
    original_create, original_update = cls.create_service, cls.update_service

    def merged(current, given):
        result = {**ECS_DEPLOYMENT_DEFAULTS, **(current or {}), **(given or {})}
        result["deploymentCircuitBreaker"] = {
            **ECS_DEPLOYMENT_DEFAULTS["deploymentCircuitBreaker"],
            **((current or {}).get("deploymentCircuitBreaker") or {}),
            **((given or {}).get("deploymentCircuitBreaker") or {}),
        }
        return result

    def create_service(self):
        result = original_create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        service.deployment_configuration = merged(None, self._get_param("deploymentConfiguration"))
        grace = self._get_param("healthCheckGracePeriodSeconds")
        if grace is None and service.load_balancers:
            grace = 0
        service.health_check_grace_period_seconds = None if grace is None else int(grace)
        return result

    def update_service(self):
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
        current = getattr(service, "deployment_configuration", None)
        result = original_update(self)
        given = self._get_param("deploymentConfiguration")
        service.deployment_configuration = merged(current, given)
        return result

    cls.create_service, cls.update_service = create_service, update_service


def patch_ecs_service_awsvpc_defaults():
    """ECS awsvpcConfiguration without securityGroups / assignPublicIp.

    AWS: a service whose awsvpcConfiguration names no securityGroups runs its
    tasks in the VPC's default security group and reports that group;
    assignPublicIp defaults to DISABLED and is always reported.
    moto 5.2.5: CreateService answers HTTP 500 (KeyError 'securityGroups');
    assignPublicIp is reported only when given.
    Fix: fill in the default group of the first subnet's VPC and DISABLED,
    on CreateService and UpdateService.
    """
    from moto.ec2.models import ec2_backends
    from moto.ecs import models

    def fill(backend, network_configuration):
        conf = (network_configuration or {}).get("awsvpcConfiguration")
        if not conf or not conf.get("subnets"):
            return
        if not conf.get("securityGroups"):
            ec2 = ec2_backends[backend.account_id][backend.region_name]
            vpc_id = ec2.get_subnet(conf["subnets"][0]).vpc_id
            conf["securityGroups"] = [ec2.get_security_group_from_name("default", vpc_id=vpc_id).id]
        conf.setdefault("assignPublicIp", "DISABLED")

    backend_cls = models.EC2ContainerServiceBackend
    original_create, original_update = backend_cls.create_service, backend_cls.update_service

    def create_service(self, *args, **kwargs):
        fill(self, kwargs.get("network_configuration"))
        return original_create(self, *args, **kwargs)

    def update_service(self, service_properties):
        fill(self, service_properties.get("network_configuration"))
        return original_update(self, service_properties)

    backend_cls.create_service, backend_cls.update_service = create_service, update_service


def patch_ecs_deleted_services_are_gone():
    """ECS ListServices and the tagging API after DeleteService.

    AWS: a deleted service turns INACTIVE; DescribeServices still reports it
    for a while, but ListServices lists only ACTIVE and DRAINING services and
    the Resource Groups Tagging API no longer returns it.
    moto 5.2.5: keeps listing INACTIVE services in both, so a cluster never
    looks empty after its services are deleted, and a teardown's search for
    what is still tagged finds services that are gone.
    Fix: both skip INACTIVE services.
    """
    from moto.ecs import models

    backend_cls = models.EC2ContainerServiceBackend
    original_list, original_iter = backend_cls.list_services, backend_cls.iter_tagged_resources

    def list_services(self, cluster_str, *args, **kwargs):
        inactive = {s.arn for s in self.services.values() if s.status == "INACTIVE"}
        return [arn for arn in original_list(self, cluster_str, *args, **kwargs) if arn not in inactive]

    def iter_tagged_resources(self):
        inactive = {s.physical_resource_id for s in self.services.values() if s.status == "INACTIVE"}
        return (r for r in original_iter(self) if r.arn not in inactive)

    backend_cls.list_services, backend_cls.iter_tagged_resources = list_services, iter_tagged_resources
def patch_ecs_create_service_compute_fields():
    """ECS CreateService enableExecuteCommand and capacityProviderStrategy.

    AWS: CreateService stores enableExecuteCommand (default false), and
    Create/DescribeServices always return it; a service created with a
    capacityProviderStrategy reports that strategy and no launchType.
    moto 5.2.5: CreateService drops both: enableExecuteCommand is missing
    until an UpdateService sets it, and a service created with a strategy
    reports launchType EC2 and no strategy, so every re-run finds a
    difference that is not there.
    Fix: store both on create; a strategy replaces the launch type.
    """
    from moto.ecs import responses

    cls = responses.EC2ContainerServiceResponse
    original_create = cls.create_service

    def create_service(self):
        result = original_create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("serviceName"))
        service.enable_execute_command = bool(self._get_param("enableExecuteCommand", False))
        strategy = self._get_param("capacityProviderStrategy")
        if strategy and not self._get_param("launchType"):
            service.capacity_provider_strategy = strategy
            service.launch_type = None
            for deployment in service.deployments:
                deployment.pop("launchType", None)
                deployment["capacityProviderStrategy"] = strategy
        return result

    cls.create_service = create_service


def patch_ecs_task_definition_revisions():
    """ECS task definition revision numbers and a family without a revision.

    AWS: a family's revision numbers only grow; one deleted with
    DeleteTaskDefinitions is never given again. A family without a revision
    (DescribeTaskDefinition, CreateService, UpdateService) means its latest
    ACTIVE revision.
    moto 5.2.5: numbers the next revision from the highest one still stored,
    so deleting the newest revisions (a teardown) makes the next deploy reuse
    their numbers; a bare family resolves to the newest revision even when
    it is INACTIVE.
    Fix: remember each family's highest revision; a bare family resolves to
    its highest ACTIVE revision.
    """
    from moto.ecs import models
    from moto.ecs.exceptions import TaskDefinitionNotFoundException

    backend_cls = models.EC2ContainerServiceBackend
    original_register = backend_cls.register_task_definition
    original_last = backend_cls._get_last_task_definition_revision_id
    original_describe = backend_cls.describe_task_definition

    def highest(self):
        if not hasattr(self, "_pocstack_highest_revision"):
            self._pocstack_highest_revision = {}
        return self._pocstack_highest_revision

    def register_task_definition(self, family, *args, **kwargs):
        task_definition = original_register(self, family, *args, **kwargs)
        highest(self)[family] = max(highest(self).get(family, 0), task_definition.revision)
        return task_definition

    def _get_last_task_definition_revision_id(self, family):
        last = original_last(self, family)
        return max(last or 0, highest(self).get(family, 0)) or None

    def describe_task_definition(self, task_definition_str):
        name = task_definition_str.split("/")[-1]
        if ":" not in name:
            active = [r for r, d in self.task_definitions.get(name, {}).items() if d.status == "ACTIVE"]
            if not active:
                raise TaskDefinitionNotFoundException()
            name = f"{name}:{max(active)}"
        return original_describe(self, name)

    backend_cls.register_task_definition = register_task_definition
    backend_cls._get_last_task_definition_revision_id = _get_last_task_definition_revision_id
    backend_cls.describe_task_definition = describe_task_definition


def patch_acm_imported_certificate_chain():
    """ACM GetCertificate for an imported certificate.

    AWS: CertificateChain is the chain that was imported; a certificate
    imported without a chain returns the certificate itself as its chain.
    community.aws.acm_certificate relies on exactly that to find a re-import
    unchanged (its own integration tests against AWS assert `not changed`).
    moto 5.2.5: appends a fixed Amazon root CA to the given chain, or returns
    that root alone, so every re-import of the same certificate reports
    `changed` and overwrites it.
    Fix: imported certificates return the imported chain, else the certificate.
    """
    from moto.acm import models

    original = models.CertBundle.__init__
    signature = inspect.signature(original)

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.type == "IMPORTED":
            given = signature.bind(self, *args, **kwargs).arguments
            chain = given.get("chain")
            self.chain = chain.strip() + b"\n" if chain else given["certificate"]

    models.CertBundle.__init__ = __init__


def patch_acm_reimport_keeps_tags():
    """ACM ImportCertificate with CertificateArn (re-import).

    AWS: re-importing into an existing ARN replaces the certificate but keeps
    the ARN, its tags and its associations (AWS does not take tags on a
    re-import at all).
    moto 5.2.5: replaces the whole record, so every tag (e.g. the Name tag
    acm_certificate finds its certificate by) is lost.
    Fix: carry the old tags and in-use list over to the new record.
    """
    from moto.acm import models

    backend_cls = models.AWSCertificateManagerBackend
    original = backend_cls.import_certificate

    def import_certificate(self, certificate, private_key, chain, arn, tags):
        old = self._certificates.get(arn) if arn else None
        result = original(self, certificate, private_key, chain, arn, tags)
        if old is not None:
            new = self._certificates[result]
            kept = old.tags.copy()
            kept.update(new.tags)
            new.tags.clear()
            new.tags.update(kept)
            new.in_use_by = old.in_use_by
        return result

    backend_cls.import_certificate = import_certificate


def patch_appautoscaling_missing_objects():
    """Application Auto Scaling: what depends on a scalable target.

    AWS: PutScalingPolicy for a scalable target that is not registered, and
    DeleteScalingPolicy / DeregisterScalableTarget of a policy or target that
    does not exist, answer ObjectNotFoundException. DeregisterScalableTarget
    also deletes the target's scaling policies (with their alarms) and its
    scheduled actions.
    moto 5.2.5: accepts a policy for no target; answers ValidationException
    for what is missing; leaves a deregistered target's policies behind.
    Fix: both errors are ObjectNotFoundException; deregistering deletes the
    target's policies and scheduled actions.
    """
    from moto.applicationautoscaling import models
    from moto.core.exceptions import JsonRESTError

    backend_cls = models.ApplicationAutoscalingBackend
    original_put, original_delete = backend_cls.put_scaling_policy, backend_cls.delete_scaling_policy
    original_deregister = backend_cls.deregister_scalable_target
    put_signature = inspect.signature(original_put)

    def missing_target(namespace, resource_id, dimension):
        return JsonRESTError("ObjectNotFoundException", f"No scalable target found for service namespace: "
                             f"{namespace}, resource ID: {resource_id}, scalable dimension: {dimension}")

    def put_scaling_policy(self, *args, **kwargs):
        given = put_signature.bind(self, *args, **kwargs).arguments
        if not self._scalable_target_exists(given["resource_id"], given["scalable_dimension"]):
            raise missing_target(given["service_namespace"], given["resource_id"], given["scalable_dimension"])
        return original_put(self, *args, **kwargs)

    def delete_scaling_policy(self, *args, **kwargs):
        try:
            return original_delete(self, *args, **kwargs)
        except models.AWSValidationException as e:
            raise JsonRESTError("ObjectNotFoundException", e.message)

    def deregister_scalable_target(self, namespace, r_id, dimension):
        if not self._scalable_target_exists(r_id, dimension):
            raise missing_target(namespace, r_id, dimension)
        for key, policy in list(self.policies.items()):
            if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (namespace, r_id, dimension):
                policy.delete_alarms(self.account_id, self.region_name)
                del self.policies[key]
        self.scheduled_actions = [a for a in self.scheduled_actions if (a.service_namespace, a.resource_id,
                                  a.scalable_dimension) != (namespace, r_id, dimension)]
        return original_deregister(self, namespace, r_id, dimension)

    backend_cls.put_scaling_policy, backend_cls.delete_scaling_policy = put_scaling_policy, delete_scaling_policy
    backend_cls.deregister_scalable_target = deregister_scalable_target


def patch_appautoscaling_policy_filters():
    """Application Auto Scaling DescribeScalingPolicies filters.

    AWS: ResourceId and ScalableDimension select exactly that target's
    policies; PolicyNames selects those names.
    moto 5.2.5: matches ResourceId as a substring of the one asked for, so
    service/c/web-api also returns the policies of service/c/web; ignores
    PolicyNames.
    Fix: exact matches, PolicyNames honoured (moto's paging kept).
    """
    from moto.applicationautoscaling import responses

    def describe_scaling_policies(self):
        wanted = {"service_namespace": self._get_param("ServiceNamespace"), "resource_id": self._get_param("ResourceId"),
                  "scalable_dimension": self._get_param("ScalableDimension")}
        names = self._get_param("PolicyNames")
        policies = [p for p in self.applicationautoscaling_backend.policies.values()
                    if all(value is None or getattr(p, key) == value for key, value in wanted.items())
                    and (not names or p.policy_name in names)]
        start = int(self._get_param("NextToken") or 0)
        end = start + (self._get_int_param("MaxResults") or 100)
        return json.dumps({"ScalingPolicies": [responses._build_policy(p) for p in policies[start:end]],
                           "NextToken": str(end) if end < len(policies) else None})

    responses.ApplicationAutoScalingResponse.describe_scaling_policies = describe_scaling_policies


def patch_appautoscaling_register_moves_desired_count():
    """Application Auto Scaling RegisterScalableTarget of an ECS service.

    AWS: when the resource is active, registering (or updating) the target
    changes its current capacity to a value inside [MinCapacity,
    MaxCapacity]: an ECS service's desiredCount below the minimum is raised
    to it, above the maximum lowered to it; inside the range it is unchanged.
    moto 5.2.5: never changes the service.
    Fix: an ACTIVE ECS service's desiredCount is moved into the range.
    """
    from moto.applicationautoscaling import models

    backend_cls = models.ApplicationAutoscalingBackend
    original = backend_cls.register_scalable_target

    def register_scalable_target(self, namespace, r_id, dimension, *args, **kwargs):
        target = original(self, namespace, r_id, dimension, *args, **kwargs)
        if namespace == "ecs" and dimension == "ecs:service:DesiredCount":
            _kind, cluster, name = r_id.split("/")
            service = self.ecs_backend.describe_services(cluster, [name])[0][0]
            if service.status == "ACTIVE" and target.min_capacity is not None and target.max_capacity is not None:
                service.desired_count = min(max(service.desired_count, target.min_capacity), target.max_capacity)
        return target

    backend_cls.register_scalable_target = register_scalable_target


def patch_appautoscaling_tags():
    """Application Auto Scaling tags on scalable targets.

    AWS: RegisterScalableTarget takes Tags when it creates a target;
    TagResource, UntagResource and ListTagsForResource work on its ARN
    (ResourceNotFoundException for an unknown ARN).
    moto 5.2.5: ignores Tags and answers the three tag calls with HTTP 500.
    Fix: tags kept on the target; the three calls implemented.
    """
    from moto.applicationautoscaling import responses
    from moto.core.exceptions import JsonRESTError

    cls = responses.ApplicationAutoScalingResponse
    original_register = cls.register_scalable_target

    def find(self, arn):
        for targets in self.applicationautoscaling_backend.targets.values():
            for target in targets.values():
                if target.arn == arn:
                    return target
        raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for ARN: {arn}")

    def tags_of(target):
        if not hasattr(target, "pocstack_tags"):
            target.pocstack_tags = {}
        return target.pocstack_tags

    def register_scalable_target(self):
        existed = self.applicationautoscaling_backend._scalable_target_exists(
            self._get_param("ResourceId"), self._get_param("ScalableDimension"))
        result = original_register(self)
        if not existed:
            tags_of(find(self, json.loads(result)["ScalableTargetARN"])).update(self._get_param("Tags") or {})
        return result

    def tag_resource(self):
        tags_of(find(self, self._get_param("ResourceARN"))).update(self._get_param("Tags") or {})
        return "{}"

    def untag_resource(self):
        tags = tags_of(find(self, self._get_param("ResourceARN")))
        for key in self._get_param("TagKeys") or []:
            tags.pop(key, None)
        return "{}"

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags_of(find(self, self._get_param("ResourceARN")))})

    cls.register_scalable_target = register_scalable_target
    cls.tag_resource, cls.untag_resource, cls.list_tags_for_resource = tag_resource, untag_resource, list_tags_for_resource
# ------------------------------------------------------------- ECR registry
# moto has ECR's API but no registry behind it. With --registry the emulator
# forwards the Docker registry v2 API to a real registry (Debian's
# docker-registry) and keeps moto's ECR in step, so `docker login/push/pull`
# against the proxyEndpoint from GetAuthorizationToken work as on AWS and
# DescribeImages/BatchGetImage return the digest the registry computed.

REGISTRY_ENV = "POCSTACK_EMULATOR_REGISTRY"


def registry_url():
    """The registry /v2/ is forwarded to ('' when the emulator has none)."""
    return os.environ.get(REGISTRY_ENV, "").rstrip("/")


def patch_ecr_authorization_proxy_endpoint():
    """ECR GetAuthorizationToken proxyEndpoint.

    AWS: proxyEndpoint is the account's registry,
    https://<account>.dkr.ecr.<region>.amazonaws.com, where `docker login`
    with user AWS and the decoded token's password, then push and pull, work.
    moto 5.2.5: returns that AWS address, which has no registry behind it.
    Fix (only with --registry): proxyEndpoint is the emulator itself,
    http://127.0.0.1:<port> (Docker allows plain HTTP to 127.0.0.0/8), whose
    /v2/ the RegistryProxy below serves; token and expiry stay moto's.
    """
    from moto.ecr import responses

    cls = responses.ECRResponse
    original = cls.get_authorization_token

    def get_authorization_token(self):
        result = original(self)
        if registry_url():
            for data in result.result["authorizationData"]:
                data["proxyEndpoint"] = f"http://{HOST}:{os.environ['MOTO_PORT']}"
        return result

    cls.get_authorization_token = get_authorization_token


class RegistryProxy:
    """WSGI middleware: /v2/ (the Docker registry API) forwarded to a real registry.

    As ECR does: every call but the API check (GET /v2/) needs basic auth
    with user AWS and the password of moto's GetAuthorizationToken (else 401
    with a Basic challenge, so `docker login` sends it); a repository must
    exist in ECR (else 404 NAME_UNKNOWN); an IMMUTABLE repository refuses to
    move a tag (400 TAG_INVALID); a manifest is only served while ECR lists
    it, so images deleted through ECR's API are gone for `docker pull` too.
    A pushed manifest (registry answered 201) is recorded in moto's ECR with
    the registry's Docker-Content-Digest. One registry serves every region: a
    repository is looked up in the regions that have one of that name.
    Absolute Location headers of the registry are rewritten to the emulator,
    so blob uploads come back through it. Bodies are streamed.
    """

    HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                  "proxy-authorization", "proxy-authenticate", "host", "authorization"}
    _path = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|tags)/(?P<rest>.*)$")

    def __init__(self, app, registry):
        self.app = app
        self.registry = registry

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path != "/v2" and not path.startswith("/v2/"):
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if not self._authorized(environ):
            return self._error(start_response, "401 Unauthorized", "DENIED", "Not Authorized",
                               [("WWW-Authenticate", f'Basic realm="http://{environ.get("HTTP_HOST", HOST)}/",'
                                                     ' service="ecr.amazonaws.com"')])
        match = self._path.match(path)
        if not match:  # GET /v2/ (API check) and the catalog
            return self._forward(environ, start_response)
        name, kind, ref = match.group("name"), match.group("kind"), match.group("rest")
        backend = self._backend(name)
        if backend is None:
            return self._error(start_response, "404 Not Found", "NAME_UNKNOWN",
                               f"The repository with name '{name}' does not exist in the registry")
        if kind != "manifests":
            return self._forward(environ, start_response)
        if method in ("GET", "HEAD") and not self._listed(backend, name, ref):
            return self._error(start_response, "404 Not Found", "MANIFEST_UNKNOWN",
                               f"Requested image not found: {name}:{ref}")
        if method != "PUT":
            return self._forward(environ, start_response)
        body = self._read_body(environ)
        tag = None if ref.startswith("sha256:") else ref
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if tag and self._tag_is_taken(backend, name, tag, digest):
            return self._error(start_response, "400 Bad Request", "TAG_INVALID",
                               f"The image tag '{tag}' already exists in the '{name}' repository "
                               "and cannot be overwritten because the repository is immutable.")
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        status, headers, chunks = self._request(environ)
        if status.startswith("201"):
            digest = dict((k.lower(), v) for k, v in headers).get("docker-content-digest", digest)
            self._record(backend, name, body, tag, environ.get("CONTENT_TYPE"), digest)
        start_response(status, headers)
        return chunks

    # -- ECR side (moto) --------------------------------------------------------
    @staticmethod
    def _authorized(environ):
        from moto.core import DEFAULT_ACCOUNT_ID

        if environ.get("PATH_INFO") in ("/v2", "/v2/") and not environ.get("HTTP_AUTHORIZATION"):
            return False  # the API check is how `docker login` learns it must authenticate
        header = environ.get("HTTP_AUTHORIZATION", "")
        expected = "Basic " + base64.b64encode(f"AWS:{DEFAULT_ACCOUNT_ID}-auth-token".encode()).decode()
        return header == expected

    @staticmethod
    def _backend(name):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ecr.models import ecr_backends

        for _region, backend in sorted(ecr_backends[DEFAULT_ACCOUNT_ID].items()):
            if name in backend.repositories:
                return backend
        return None

    @staticmethod
    def _listed(backend, name, ref):
        return any(ref == image.image_digest or ref in image.image_tags for image in backend.repositories[name].images)

    @staticmethod
    def _tag_is_taken(backend, name, tag, digest):
        repository = backend.repositories[name]
        return repository.image_tag_mutability.startswith("IMMUTABLE") and any(
            tag in image.image_tags and image.image_digest != digest for image in repository.images
        )

    @staticmethod
    def _record(backend, name, body, tag, media_type, digest):
        from moto.ecr.exceptions import ImageAlreadyExistsException

        try:
            backend.put_image(name, body.decode("utf-8"), tag, media_type or None, digest)
        except ImageAlreadyExistsException:
            pass  # the same manifest under the same tag: a re-push, nothing to record

    # -- registry side ----------------------------------------------------------
    @staticmethod
    def _read_body(environ):
        stream = environ["wsgi.input"]
        length = environ.get("CONTENT_LENGTH")
        if length:
            return stream.read(int(length))
        return stream.read() if environ.get("wsgi.input_terminated") else b""

    def _forward(self, environ, start_response):
        status, headers, chunks = self._request(environ)
        start_response(status, headers)
        return chunks

    def _request(self, environ):
        import http.client
        from urllib.parse import urlsplit

        target = urlsplit(self.registry)
        conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=600)
        url = environ.get("PATH_INFO", "") + (f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else "")
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in self.HOP_BY_HOP}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        method = environ.get("REQUEST_METHOD", "GET")
        if environ.get("CONTENT_LENGTH"):
            headers["Content-Length"] = environ["CONTENT_LENGTH"]
            body = self._chunks(environ["wsgi.input"], int(environ["CONTENT_LENGTH"]))
            conn.request(method, url, body=body, headers=headers)
        elif environ.get("wsgi.input_terminated"):  # a chunked request
            conn.request(method, url, body=self._chunks(environ["wsgi.input"], None), headers=headers,
                         encode_chunked=True)
        else:
            conn.request(method, url, headers=headers)
        resp = conn.getresponse()
        ours = f"http://{environ.get('HTTP_HOST', HOST)}"
        out = []
        for key, value in resp.getheaders():
            if key.lower() in self.HOP_BY_HOP:
                continue
            if key.lower() == "location" and value.startswith(self.registry):
                value = ours + value[len(self.registry):]
            out.append((key, value))
        return f"{resp.status} {resp.reason}", out, self._response_chunks(resp, conn)

    @staticmethod
    def _chunks(stream, length):
        while length is None or length > 0:
            data = stream.read(65536 if length is None else min(65536, length))
            if not data:
                return
            if length is not None:
                length -= len(data)
            yield data

    @staticmethod
    def _response_chunks(resp, conn):
        try:
            while True:
                data = resp.read(65536)
                if not data:
                    return
                yield data
        finally:
            conn.close()

    @staticmethod
    def _error(start_response, status, code, message, extra=()):
        body = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
        start_response(status, [("Content-Type", "application/json; charset=utf-8"),
                                ("Content-Length", str(len(body))), *extra])
        return [body]


def registry_proxy(app):
    """`app` behind a RegistryProxy when the emulator has a registry, else `app`."""
    return RegistryProxy(app, registry_url()) if registry_url() else app
def _acm_certificate_place(cert):
    """(partition, account, region) of an ACM certificate, from its ARN."""
    _, partition, _, region, account = cert.arn.split(":")[:5]
    return partition, account, region


def patch_acm_request_key_algorithm():
    """ACM RequestCertificate KeyAlgorithm.

    AWS: a requested certificate has the key algorithm asked for
    (RSA_2048, the default, EC_prime256v1 or EC_secp384r1), and
    DescribeCertificate/ListCertificates report it as KeyAlgorithm.
    moto 5.2.5: ignores KeyAlgorithm; every requested certificate has an
    RSA 2048 key, so a module comparing the key algorithm would request an
    EC certificate again on every run.
    Fix: re-key a freshly requested certificate with the asked-for EC curve
    (same subject, issuer, SANs and validity).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from moto.acm import responses

    curves = {"EC_prime256v1": (ec.SECP256R1, hashes.SHA256), "EC_secp384r1": (ec.SECP384R1, hashes.SHA384)}
    cls = responses.AWSCertificateManagerResponse
    original = cls.request_certificate

    def request_certificate(self):
        result = original(self)
        wanted = curves.get(self._get_param("KeyAlgorithm") or "RSA_2048")
        if wanted:
            bundle = self.acm_backend._certificates[result.result["CertificateArn"]]
            curve, digest = wanted
            key = ec.generate_private_key(curve())
            old = bundle._cert
            builder = (x509.CertificateBuilder().subject_name(old.subject).issuer_name(old.issuer)
                       .public_key(key.public_key()).serial_number(old.serial_number)
                       .not_valid_before(old.not_valid_before_utc)
                       .not_valid_after(old.not_valid_after_utc))
            for extension in old.extensions:
                builder = builder.add_extension(extension.value, critical=extension.critical)
            cert = builder.sign(key, digest())
            bundle.key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())
            bundle.cert = cert.public_bytes(serialization.Encoding.PEM)
            bundle._key, bundle._cert = key, cert
        return result

    cls.request_certificate = request_certificate


def patch_acm_dns_validation_needs_records():
    """ACM DNS validation of a requested certificate.

    AWS: a certificate requested with DNS validation stays
    PENDING_VALIDATION until the CNAME record of every domain
    (DomainValidationOptions[].ResourceRecord) resolves in public DNS; then
    it turns ISSUED. Without the records it never does (VALIDATION_TIMED_OUT
    after 72 hours).
    moto 5.2.5: turns ISSUED MOTO_ACM_VALIDATION_WAIT seconds after the
    request whether or not any record exists, so a module that forgot the
    records, or wrote wrong ones, would pass.
    Fix: after that wait, ISSUED only once every validation record exists as
    a CNAME with that value in a public Route 53 hosted zone of the account.
    """
    from moto.acm import models
    from moto.route53.models import route53_backends

    def published(cert):
        partition, account, _ = _acm_certificate_place(cert)
        zones = [z for z in route53_backends[account][partition].zones.values() if not z.private_zone]
        have = {(r.name.rstrip(".").lower(), value.rstrip(".").lower())
                for zone in zones for r in zone.rrsets if r.type == "CNAME" for value in r.records}
        for option in cert.describe()["Certificate"].get("DomainValidationOptions", []):
            record = option["ResourceRecord"]
            if (record["Name"].rstrip(".").lower(), record["Value"].rstrip(".").lower()) not in have:
                return False
        return True

    original = models.CertBundle.check

    def check(self):
        pending = self.type == "AMAZON_ISSUED" and self.status == "PENDING_VALIDATION"
        original(self)
        if pending and self.status == "ISSUED" and not published(self):
            self.status = "PENDING_VALIDATION"

    models.CertBundle.check = check


def patch_acm_in_use_by_load_balancers():
    """ACM InUseBy and DeleteCertificate of a certificate that is in use.

    AWS: DescribeCertificate's InUseBy lists the load balancers whose
    listeners use the certificate (ListCertificates: InUse true), and
    DeleteCertificate of such a certificate fails with
    ResourceInUseException, so a teardown must delete the listener first.
    moto 5.2.5: ELBv2 CreateListener records the listener's ARN (not the
    load balancer's) and nothing ever removes it: after the listener or the
    load balancer is deleted, or ModifyListener switched certificates, the
    certificate stays "in use" (and a new one given to ModifyListener never
    is); DeleteCertificate succeeds even while a listener uses it.
    Fix: InUseBy lists the ELBv2 load balancers whose listeners hold the
    certificate now (classic ELB entries are kept); DeleteCertificate
    refuses while InUseBy is not empty.
    """
    from moto.acm import models
    from moto.acm.exceptions import AWSError
    from moto.elbv2.models import elbv2_backends

    class ResourceInUse(AWSError):
        TYPE = "ResourceInUseException"

    def users(cert):
        _, account, region = _acm_certificate_place(cert)
        found = {user for user in cert.in_use_by if ":listener/" not in user}  # moto's stale ELBv2 entries
        for lb in elbv2_backends[account][region].load_balancers.values():
            if any(cert.arn in (listener.certificates or []) for listener in lb.listeners.values()):
                found.add(lb.arn)
        return sorted(found)

    original_describe = models.CertBundle.describe

    def describe(self):
        result = original_describe(self)
        result["Certificate"]["InUseBy"] = users(self)
        return result

    backend_cls = models.AWSCertificateManagerBackend
    original_delete = backend_cls.delete_certificate

    def delete_certificate(self, arn):
        cert = self._certificates.get(arn)
        in_use = users(cert) if cert is not None else []
        if in_use:
            raise ResourceInUse(f"Certificate {arn} in use by {', '.join(in_use)}")
        return original_delete(self, arn)

    models.CertBundle.describe = describe
    backend_cls.delete_certificate = delete_certificate


PATCHES = [
    patch_elbv2_alb_default_attributes,
    patch_elbv2_set_rule_priorities,
    patch_elbv2_action_shape,
    patch_elbv2_target_group_attributes,
    patch_elbv2_target_group_load_balancer_arns,
    patch_ecs_service_deployment_fields,
    patch_ecs_service_awsvpc_defaults,
    patch_ecs_deleted_services_are_gone,
    patch_ecs_create_service_compute_fields,
    patch_ecs_task_definition_revisions,
    patch_acm_imported_certificate_chain,
    patch_acm_reimport_keeps_tags,
    patch_appautoscaling_missing_objects,
    patch_appautoscaling_policy_filters,
    patch_appautoscaling_register_moves_desired_count,
    patch_appautoscaling_tags,
    patch_ecr_authorization_proxy_endpoint,
    patch_acm_request_key_algorithm,
    patch_acm_dns_validation_needs_records,
    patch_acm_in_use_by_load_balancers,
]


def apply_patches():
    for patch in PATCHES:
        patch()


# ---------------------------------------------------------------- call counting
class CallCounter:
    """WSGI middleware counting AWS API calls as service:Action, split into
    reads (Describe/List/Get/...) and writes, so tests can prove that nothing
    was changed; optionally answers a share of them with a throttling error
    (see Throttle). Serves /_pocstack/*; /moto-api/* and /_pocstack/* are
    neither counted nor throttled."""

    _scope = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")

    def __init__(self, app, throttle_rate=0.0, throttle_seed=None):
        self.app = app
        self.lock = threading.Lock()
        self.calls = collections.Counter()
        self.throttled = collections.Counter()
        self.throttle = Throttle(throttle_rate, throttle_seed)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path.startswith("/_pocstack/"):
            if path == "/_pocstack/health" and method in ("GET", "HEAD"):
                return self._json(start_response, {"status": "ok"})
            if path == "/_pocstack/calls" and method in ("GET", "HEAD"):
                return self._json(start_response, self.snapshot())
            if path == "/_pocstack/calls/reset" and method == "POST":
                with self.lock:
                    self.calls.clear()
                    self.throttled.clear()
                return self._json(start_response, self.snapshot())
            if path == "/_pocstack/throttle" and method == "POST":
                try:
                    settings = json.loads(self._body(environ) or b"{}")
                    self.throttle.configure(settings.get("rate", 0.0), settings.get("seed"))
                except (ValueError, TypeError, AttributeError) as e:
                    return self._json(start_response, {"error": str(e)}, "400 Bad Request")
                return self._json(start_response, self.snapshot())
            return self._json(start_response, {"error": f"no {method} {path}"}, "404 Not Found")
        if not path.startswith("/moto-api") and path != "/favicon.ico":
            name = self.call_name(environ)
            signed = self._scope.search(environ.get("HTTP_AUTHORIZATION", "")) is not None
            if signed and self.throttle.hit():
                with self.lock:
                    self.throttled[name] += 1
                return self.throttle.respond(environ, start_response, name)
            with self.lock:
                self.calls[name] += 1
        return self.app(environ, start_response)

    def snapshot(self):
        with self.lock:
            calls = dict(sorted(self.calls.items()))
            throttled = dict(sorted(self.throttled.items()))
        reads = sum(n for name, n in calls.items() if is_read(name))
        return {
            "reads": reads,
            "writes": sum(calls.values()) - reads,
            "calls": calls,
            "throttled": sum(throttled.values()),
            "throttled_calls": throttled,
            "throttle_rate": self.throttle.rate,
        }

    def call_name(self, environ):
        match = self._scope.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = match.group(1) if match else "unknown"
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:  # JSON protocols: "AmazonEC2ContainerServiceV20141113.CreateCluster"
            return f"{service}:{target.rsplit('.', 1)[-1]}"
        action = self._query_action(environ)
        if action:  # query protocols (EC2, ELBv2, IAM, STS): Action=...
            return f"{service}:{action}"
        # REST protocols: no action name on the wire; GET/HEAD count as reads.
        method = environ.get("REQUEST_METHOD", "GET")
        verb = {"GET": "Get", "HEAD": "Head"}.get(method, method.title())
        return f"{service}:{verb} {environ.get('PATH_INFO', '')}"

    @staticmethod
    def _query_action(environ):
        found = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
        if found:
            return found[0]
        if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            return None
        body = CallCounter._body(environ)
        if not body:
            return None
        found = parse_qs(body.decode("utf-8", "replace")).get("Action")
        return found[0] if found else None

    @staticmethod
    def _body(environ):
        """The request body, left readable for moto (which reads it after us)."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return b""
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    @staticmethod
    def _json(start_response, data, status="200 OK"):
        body = json.dumps(data).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


class Throttle:
    """Answers a share of AWS API calls as AWS does when a caller exceeds its
    request rate, so that tests can prove every call is retried.

    AWS's throttling errors, by protocol (what botocore's retry handler and
    amazon.aws's AWSRetry recognise):
    - JSON protocols (X-Amz-Target: ECS, SSM, ECR, ACM, CloudWatch Logs,
      Application Auto Scaling): HTTP 400, {"__type": "ThrottlingException"}.
    - EC2's query protocol: HTTP 503, <Response><Errors><Error> with code
      RequestLimitExceeded.
    - other query and REST-XML protocols (ELBv2, IAM, STS, Route 53): HTTP
      400, <ErrorResponse><Error> with code Throttling.
    The calls hit are drawn from a seeded generator: a run is repeatable.
    """

    def __init__(self, rate=0.0, seed=None):
        self.lock = threading.Lock()
        self.configure(rate, seed)

    def configure(self, rate, seed=None):
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"throttle rate must be at least 0 and below 1, got {rate}")
        with self.lock:
            self.rate = rate
            self.random = random.Random(seed)

    def hit(self):
        with self.lock:
            return self.rate > 0 and self.random.random() < self.rate

    @staticmethod
    def respond(environ, start_response, name):
        request_id = "00000000-0000-4000-8000-000000000000"
        if environ.get("HTTP_X_AMZ_TARGET"):
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
            status, content_type = "400 Bad Request", "application/x-amz-json-1.1"
        elif name.startswith("ec2:"):
            body = (
                "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
                "<Message>Request limit exceeded.</Message></Error></Errors>"
                f"<RequestID>{request_id}</RequestID></Response>"
            ).encode()
            status, content_type = "503 Service Unavailable", "text/xml"
        else:
            body = (
                "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
                f"<Message>Rate exceeded</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            ).encode()
            status, content_type = "400 Bad Request", "text/xml"
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                                ("x-amzn-RequestId", request_id)])
        return [body]


def is_read(name):
    """'ecs:DescribeServices' -> True; 'ecs:CreateService' -> False."""
    return name.split(":", 1)[-1].startswith(READ_PREFIXES)


def make_app(throttle_rate=0.0, throttle_seed=None):
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.moto_server.werkzeug_app import create_backend_app

    return CallCounter(registry_proxy(DomainDispatcherApplication(create_backend_app)), throttle_rate, throttle_seed)


# ----------------------------------------------------------------------- server
def run(port, throttle=0.0, registry=""):
    """Serve in the foreground until SIGTERM/SIGINT (exit 0)."""
    if registry:
        os.environ[REGISTRY_ENV] = registry
    os.environ.setdefault("MOTO_PORT", str(port))  # as moto_server does: moto's self-references
    os.environ.setdefault("MOTO_ACM_VALIDATION_WAIT", str(ACM_VALIDATION_WAIT))  # read when moto is imported
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import run_simple

    apply_patches()
    app = make_app(throttle)

    def interrupt(*_):
        raise KeyboardInterrupt  # werkzeug's serve_forever catches it and closes the socket

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    print(f"pocstack emulator on http://{HOST}:{port}, throttle rate {throttle}, "
          f"ACM validation wait {os.environ['MOTO_ACM_VALIDATION_WAIT']} s, "
          f"fixes: {', '.join(p.__name__ for p in PATCHES)}", flush=True)
    if registry_url():
        print(f"ECR registry: /v2/ forwarded to {registry_url()}", flush=True)
    run_simple(HOST, port, app, threaded=True, request_handler=MotoRequestHandler)
    print("pocstack emulator stopped", flush=True)
    return 0


def answers(port, timeout=1.0):
    """True if our emulator (not just anything) answers on 127.0.0.1:port."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/_pocstack/health", timeout=timeout) as resp:
            return json.load(resp).get("status") == "ok"
    except (urllib.error.URLError, OSError, ValueError, AttributeError):
        return False


def _paths(state_dir, port):
    return (os.path.join(state_dir, f"emulator-{port}.pid"), os.path.join(state_dir, f"emulator-{port}.log"))


def _read_pid(pid_file):
    try:
        with open(pid_file) as fh:
            return int(fh.read().strip())
    except (OSError, ValueError):
        return None


def _alive(pid):
    """True if pid runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_ours(pid):
    """True if pid is this launcher's `run` (so a reused pid is never signalled)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return _alive(pid)  # no /proc (macOS): trust the pid file
    return any(os.path.basename(a) == b"pocstack_emulator.py" for a in argv) and b"run" in argv


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as fh:
            return "".join(fh.readlines()[-lines:])
    except OSError:
        return ""


def start(port, state_dir, throttle=0.0, registry=""):
    endpoint = f"http://{HOST}:{port}"
    if answers(port):
        print(f"emulator already running at {endpoint}")
        return 0
    os.makedirs(state_dir, exist_ok=True)
    pid_file, log_file = _paths(state_dir, port)
    pid = _read_pid(pid_file)
    proc = None
    if not (pid and _alive(pid) and _is_ours(pid)):  # else: another start is still starting it
        with open(log_file, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "run", "--port", str(port), "--throttle", str(throttle),
                 *(["--registry", registry] if registry else [])],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True,
            )
        pid = proc.pid
        with open(pid_file, "w") as fh:
            fh.write(f"{pid}\n")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if answers(port):
            print(f"emulator running at {endpoint} (pid {pid}, log {log_file})")
            return 0
        if (proc.poll() is not None) if proc else not _alive(pid):
            break
        time.sleep(0.2)
    if proc and proc.poll() is None:
        proc.kill()
        proc.wait()
    if _read_pid(pid_file) == pid:
        os.unlink(pid_file)
    print(f"emulator did not start at {endpoint} within {START_TIMEOUT} s; end of {log_file}:\n{_tail(log_file)}",
          file=sys.stderr)
    return 1


def stop(port, state_dir):
    pid_file, _ = _paths(state_dir, port)
    pid = _read_pid(pid_file)
    if pid is None:
        note = " (but something answers there, not started from this state dir)" if answers(port) else ""
        print(f"emulator not running from {state_dir} on port {port}{note}")
        return 0
    if not (_alive(pid) and _is_ours(pid)):
        print(f"emulator (pid {pid}) was not running; removed stale {pid_file}")
        os.unlink(pid_file)
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
        print(f"emulator (pid {pid}) did not stop within {STOP_TIMEOUT} s; killed it")
    else:
        print(f"emulator (pid {pid}) on port {port} stopped")
    os.unlink(pid_file)
    return 0


def status(port):
    if answers(port):
        print(f"emulator running at http://{HOST}:{port}")
        return 0
    print(f"emulator not running at http://{HOST}:{port}")
    return NOT_RUNNING


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status", "run"])
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help="port on 127.0.0.1 (default: $POCSTACK_EMULATOR_PORT or 4566)")
    parser.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help="pid and log files (default: %(default)s)")
    parser.add_argument("--throttle", type=float, default=float(os.environ.get("POCSTACK_EMULATOR_THROTTLE") or 0),
                        help="share of AWS calls answered with a throttling error, 0 to below 1 "
                             "(default: $POCSTACK_EMULATOR_THROTTLE or 0); POST /_pocstack/throttle changes it")
    parser.add_argument("--registry", default=os.environ.get(REGISTRY_ENV, ""),
                        help="forward the Docker registry API (/v2/) to this registry, e.g. http://127.0.0.1:5000 "
                             f"(default: ${REGISTRY_ENV}; none)")
    args = parser.parse_args(argv)
    if not 0 <= args.throttle < 1:
        parser.error(f"--throttle must be at least 0 and below 1, got {args.throttle}")
    if args.command == "run":
        return run(args.port, args.throttle, args.registry)
    if args.command == "start":
        return start(args.port, os.path.abspath(args.state_dir), args.throttle, args.registry)
    if args.command == "stop":
        return stop(args.port, os.path.abspath(args.state_dir))
    return status(args.port)


if __name__ == "__main__":
    sys.exit(main())
