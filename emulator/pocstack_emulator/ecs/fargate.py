"""Fargate's checks before a task's containers start, with AWS's own words.

On platform version 1.4 the agent, acting as the task's execution role and
through the task's own network interface, in this order: gets ECR registry
auth and the secrets, pulls each image, creates each container's CloudWatch
Logs stream. A step that fails stops the task with stopCode TaskFailedToStart
and the error text Fargate writes into stoppedReason. `prepare()` makes every
check against moto's state (IAM, ECR, SSM, KMS, Logs, EC2) and returns what
the containers need (images, environment with the secrets decrypted, log
streams), or raises TaskFailed with that text.

The texts follow what Fargate writes (seen in AWS's troubleshooting guide and
in users' reports); request IDs and retry counts are AWS's usual ones.
"""
import json
import re
import uuid

from pocstack_emulator.ec2 import network
from pocstack_emulator.iam import policy

ECS_TASKS = {"Service": "ecs-tasks.amazonaws.com"}
ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*?)(?:@(?P<digest>sha256:[0-9a-f]{64})|:(?P<tag>[A-Za-z0-9_.-]{1,128}))?$")
SSM_PARAMETER_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter(?P<name>/.+)$")
# The public endpoints an agent without a path out times out on (documentation addresses).
# runtimePlatform.cpuArchitecture as image manifests name it.
ARCHITECTURES = {"X86_64": "amd64", "ARM64": "arm64"}
ENDPOINTS = {
    "ecr.api": ('Post "https://api.ecr.{region}.amazonaws.com/"', "52.46.130.2"),
    "ssm": ('Post "https://ssm.{region}.amazonaws.com/"', "52.46.141.140"),
    "secretsmanager": ('Post "https://secretsmanager.{region}.amazonaws.com/"', "52.46.145.3"),
    "logs": ('Post "https://logs.{region}.amazonaws.com/"', "52.46.152.12"),
    "ecr.dkr": ('Get "https://{account}.dkr.ecr.{region}.amazonaws.com/v2/"', "52.46.156.20"),
    "s3": ('Get "https://prod-{region}-starport-layer-bucket.s3.{region}.amazonaws.com/"', "52.217.40.86"),
}


class TaskFailed(Exception):
    """A task that cannot start: stopCode, stoppedReason and, for a container
    that failed, its name and reason."""

    def __init__(self, reason, stop_code="TaskFailedToStart", container=None, container_reason=None):
        super().__init__(reason)
        self.reason = reason
        self.stop_code = stop_code
        self.container = container
        self.container_reason = container_reason or reason


def _request_id():
    return str(uuid.uuid4())


def role_name(arn):
    return arn.rsplit("/", 1)[-1]


def assumed_role(account, arn, task_id):
    return f"arn:aws:sts::{account}:assumed-role/{role_name(arn)}/{task_id}"


def assume_role_error(arn):
    """What ECS says (as a service event, no task is made) when it cannot assume a role."""
    return (f"ECS was unable to assume the role '{arn}' that was provided for this task. Please verify that the "
            "role being passed has the proper trust relationship and permissions and that your IAM user has "
            "permissions to pass this role.")


def assume_role_context(account, source_arn):
    """The request context of ECS's AssumeRole for a task: the confused-deputy
    keys the ECS guide tells trust policies to test, aws:SourceAccount (the
    task's account) and aws:SourceArn (the task's ARN,
    arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID, which is why the guide's
    ArnLike pattern arn:aws:ecs:REGION:ACCOUNT:* matches it)."""
    return {"aws:SourceAccount": account, "aws:SourceArn": source_arn}


def can_assume(iam, arn, account, region, source_arn=None):
    """True when the role exists and its trust policy lets ecs-tasks.amazonaws.com
    assume it for the task `source_arn` (its Condition judged on
    assume_role_context). Without the task's ARN, one of a task of this account
    and region stands in: a condition on the cluster or task then cannot hold."""
    try:
        role = iam.get_role(role_name(arn))
    except Exception:  # NoSuchEntity
        return False
    partition = arn.split(":")[1] if arn.count(":") >= 5 else "aws"
    source_arn = source_arn or f"arn:{partition}:ecs:{region}:{account}:task/unknown"
    decision, _ = policy.evaluate([role.assume_role_policy_document], "sts:AssumeRole", None,
                                  assume_role_context(account, source_arn), principal=ECS_TASKS)
    return decision == policy.ALLOW


class Checks:
    """One task's start-up checks, with the moto backends of its account and region."""

    def __init__(self, backends, account, region, task_id, task_definition, network_config, eni_ip):
        self.b = backends
        self.account, self.region, self.task_id = account, region, task_id
        self.td = task_definition
        self.net = network_config
        self.ip = eni_ip
        self.role = getattr(task_definition, "execution_role_arn", None)
        self.identity, self.boundary = ([], None)
        if self.role:
            self.identity, self.boundary = policy.role_policies(self.b["iam"], role_name(self.role))

    # -- helpers -------------------------------------------------------------
    def _principal(self):
        return assumed_role(self.account, self.role, self.task_id)

    def _denied(self, action, resource, context=None):
        """None when the execution role may, else AWS's AccessDeniedException text."""
        if not self.role:
            return (f"AccessDeniedException: The task has no execution role, so ECS cannot call {action} "
                    f"on resource: {resource}")
        allowed, why = policy.is_allowed(self.identity, self.boundary, action, resource, context or {})
        if allowed:
            return None
        return (f"AccessDeniedException: User: {self._principal()} is not authorized to perform: {action} on "
                f"resource: {resource} {why}")

    def _unreachable(self, service):
        subnet = self.net["subnet"]
        path, why = network.reach(self.b["ec2"], self.region, subnet, self.ip, self.net["public_ip"],
                                  self.net["security_groups"], service)
        if path:
            return None
        call, address = ENDPOINTS[service]
        return (f"RequestError: send request failed caused by: {call.format(region=self.region, account=self.account)}"
                f": dial tcp {address}:443: i/o timeout", why)

    # -- the steps, in Fargate's order ---------------------------------------
    def registry_auth(self, images):
        """ecr:GetAuthorizationToken, through the ecr.api endpoint."""
        if not any(image["ecr"] for image in images):
            return
        head = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource " \
               "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): "
        blocked = self._unreachable("ecr.api")
        if blocked:
            raise TaskFailed(head + blocked[0] + ". Please check your task network configuration.")
        denied = self._denied("ecr:GetAuthorizationToken", "*")
        if denied:
            raise TaskFailed(head + denied + f"\n\tstatus code: 400, request id: {_request_id()}")

    def secrets(self, container_definitions):
        """Each container's secrets: ssm:GetParameters (and kms:Decrypt for a
        customer managed key), or from Secrets Manager (_secrets_manager);
        returns {container name: {NAME: value}}."""
        values = {}
        ssm_head = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource " \
                   "retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): "
        names = [(c["name"], s) for c in container_definitions for s in c.get("secrets") or []]
        if names and any(not self._is_secrets_manager(s["valueFrom"]) for _, s in names):
            blocked = self._unreachable("ssm")
            if blocked:
                raise TaskFailed(ssm_head + blocked[0] + ". Please check your task network configuration.")
        for container, secret in names:
            if self._is_secrets_manager(secret["valueFrom"]):
                values.setdefault(container, {})[secret["name"]] = self._secrets_manager(secret["valueFrom"])
                continue
            arn, name = self._parameter(secret["valueFrom"], ssm_head)
            denied = self._denied("ssm:GetParameters", arn)
            if denied:
                raise TaskFailed(ssm_head + denied + f"\n\tstatus code: 400, request id: {_request_id()}")
            parameter = self.b["ssm"].get_parameter(name)
            if parameter is None:
                raise TaskFailed(ssm_head + f"invalid ssm parameters: {name}")
            value = parameter.value
            if parameter.parameter_type == "SecureString":
                key = self._customer_key(parameter.keyid)
                if key is not None:
                    denied = self._denied("kms:Decrypt", key, {"kms:ViaService": f"ssm.{self.region}.amazonaws.com",
                                                               "kms:CallerAccount": self.account})
                    if denied:
                        raise TaskFailed(ssm_head + denied + f"\n\tstatus code: 400, request id: {_request_id()}")
                value = parameter.decrypt(parameter.value)
            values.setdefault(container, {})[secret["name"]] = value
        return values

    def _secrets_manager(self, value_from):
        """One Secrets Manager secret as Fargate reads it (ECS's valueFrom
        ARN[:json-key:version-stage:version-id]): through the secretsmanager
        endpoint, secretsmanager:GetSecretValue on the secret's ARN, kms:Decrypt
        (via Secrets Manager) on a customer managed key, the version, the JSON
        key. Texts: the agent's "unable to retrieve secret from asm: service
        call has been retried N time(s): failed to fetch secret ARN from
        secrets manager: <API error>" and "retrieved secret from Secrets
        Manager did not contain json key X", as users report them from
        stoppedReason; the API errors are Secrets Manager's. Unverified (no
        published report found): the texts of the missing version and of a
        denied kms:Decrypt ("Access to KMS is not allowed", the API's message)
        inside that frame."""
        head = ("ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval "
                "failed: unable to retrieve secret from asm: service call has been retried {} time(s): ")
        parts = value_from.split(":")
        arn, (json_key, stage, version) = ":".join(parts[:7]), (parts[7:] + ["", "", ""])[:3]
        account, region = (parts[4], parts[3]) if len(parts) >= 7 else (self.account, self.region)
        fetch = f"failed to fetch secret {arn} from secrets manager: "
        if self._unreachable("secretsmanager"):
            # as reported: the SDK's context deadline, after 5 attempts
            raise TaskFailed(head.format(5) + fetch + "RequestCanceled: request context canceled caused by: context "
                             "deadline exceeded. Please check your task network configuration.")
        status = f"\n\tstatus code: 400, request id: {_request_id()}"
        backend = self.b["secretsmanager_for"](account, region)
        # the complete ARN, or a partial one without the 6-character suffix (as Secrets Manager accepts)
        found = next((s for s in backend.secrets.values() if s.arn == arn or s.arn[:-7] == arn), None)
        denied = self._denied("secretsmanager:GetSecretValue", found.arn if found else arn)
        if denied:
            raise TaskFailed(head.format(1) + fetch + denied + status)
        if found is None or found.is_deleted():
            raise TaskFailed(head.format(1) + fetch + "ResourceNotFoundException: Secrets Manager can't find the "
                             "specified secret." + status)
        key = self._customer_key(found.kms_key_id, aws_managed="alias/aws/secretsmanager")
        if key is not None and self._denied("kms:Decrypt", key, {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com",
                                                                "kms:CallerAccount": self.account}):
            raise TaskFailed(head.format(1) + fetch + "AccessDeniedException: Access to KMS is not allowed" + status)
        chosen = None
        for version_id, entry in found.versions.items():
            if (version and version_id == version) or (not version and (stage or "AWSCURRENT") in entry["version_stages"]):
                chosen = entry
        if chosen is None:
            what = f"VersionId: {version}" if version else f"staging label: {stage or 'AWSCURRENT'}"
            raise TaskFailed(head.format(1) + fetch + "ResourceNotFoundException: Secrets Manager can't find the "
                             f"specified secret value for {what}" + status)
        text = chosen.get("secret_string")
        if text is None:  # a SecretBinary: ECS injects only SecretString (unverified wording)
            raise TaskFailed(head.format(1) + fetch + "secret has no SecretString")
        if not json_key:
            return text
        try:
            document = json.loads(text)
        except ValueError as e:
            raise TaskFailed(head.format(1) + str(e)) from None
        if not isinstance(document, dict) or json_key not in document:
            raise TaskFailed(head.format(1) + f"retrieved secret from Secrets Manager did not contain json key {json_key}")
        value = document[json_key]
        return value if isinstance(value, str) else json.dumps(value)

    def image(self, image):
        """ecr:BatchGetImage + ecr:GetDownloadUrlForLayer on the repository,
        through ecr.dkr and S3 (layers); the image must exist in ECR."""
        if not image["ecr"]:
            return
        ref = image["uri"]
        head = "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref " \
               f"{ref}: "
        for service in ("ecr.dkr", "s3"):
            blocked = self._unreachable(service)
            if blocked:
                raise TaskFailed(head + blocked[0].replace("RequestError: send request failed caused by: ", ""),
                                 stop_code="TaskFailedToStart")
        repository_arn = f"arn:aws:ecr:{image['region']}:{image['account']}:repository/{image['repository']}"
        for action in ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"):
            if self._denied(action, repository_arn):
                raise TaskFailed(head + f"pulling from host {ref.split('/', 1)[0]} failed with status code "
                                        f"[manifests {image['digest'] or image['tag']}]: 403 Forbidden")
        found = self._ecr_image(image)
        if found is None:
            raise TaskFailed(head + f"{ref}: not found")
        image["digest"] = found.image_digest
        self._platform(image, found, head)

    def _platform(self, image, found, head):
        """The image's variant for the task's CPU architecture (runtimePlatform;
        X86_64 without one). An index (a multi-platform image) that lists none
        fails the pull, as containerd's platform match does (Fargate's wording
        for it is not published: containerd's own words follow the common
        head). A single image made for another architecture is pulled, and its
        container fails as the kernel refuses its binaries: AWS's
        knowledge-center page "ecs-task-exec-format-error" says the task stops
        with "Essential container in task exited", exit code 1, and the log
        "exec <path>: exec format error"; image["architecture"] (the task's)
        tells the runner to compare it with the pulled image's (its config's,
        read from the engine after the pull, outside the data plane's lock).
        The engine here pulls the host's
        variant of an index, so an index that lists the task's architecture
        runs that: the platform is recorded, not emulated."""
        wanted = ARCHITECTURES.get((getattr(self.td, "runtime_platform", None) or {}).get("cpuArchitecture"), "amd64")
        try:
            manifest = json.loads(found.image_manifest or "{}")
        except ValueError:
            return
        if isinstance(manifest.get("manifests"), list):
            platforms = [m.get("platform") or {} for m in manifest["manifests"]]
            if not any(p.get("os") == "linux" and p.get("architecture") == wanted for p in platforms):
                raise TaskFailed(head + f"no match for platform linux/{wanted} in manifest {found.image_digest}: "
                                        "not found")
            return
        image["architecture"] = wanted

    def log_stream(self, container):
        """awslogs: the group must exist (or awslogs-create-group), and the role
        may logs:CreateLogStream and logs:PutLogEvents on the stream."""
        conf = container.get("logConfiguration") or {}
        if conf.get("logDriver") != "awslogs":
            return None
        options = conf.get("options") or {}
        group = options.get("awslogs-group")
        prefix = options.get("awslogs-stream-prefix")
        stream = f"{prefix}/{container['name']}/{self.task_id}" if prefix else self.task_id
        region = options.get("awslogs-region", self.region)
        head = "ResourceInitializationError: failed to validate logger args: create stream has been retried 1 times: " \
               "failed to create Cloudwatch log stream: "
        blocked = self._unreachable("logs")
        if blocked:
            raise TaskFailed(head + blocked[0] + " : exit status 1", container=container["name"])
        stream_arn = f"arn:aws:logs:{region}:{self.account}:log-group:{group}:log-stream:{stream}"
        logs = self.b["logs"]
        if group not in logs.groups:
            if str(options.get("awslogs-create-group", "")).lower() == "true":
                denied = self._denied("logs:CreateLogGroup", f"arn:aws:logs:{region}:{self.account}:log-group:{group}")
                if denied:
                    raise TaskFailed(head + denied + " : exit status 1", container=container["name"])
                logs.create_log_group(group, {})
            else:
                raise TaskFailed(head + "ResourceNotFoundException: The specified log group does not exist. : "
                                        "exit status 1", container=container["name"])
        for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
            denied = self._denied(action, stream_arn)
            if denied:
                raise TaskFailed(head + denied + f"\n\tstatus code: 400, request id: {_request_id()} : exit status 1",
                                 container=container["name"])
        if stream not in logs.groups[group].streams:
            logs.create_log_stream(group, stream)
        return {"group": group, "stream": stream}

    # -- moto lookups --------------------------------------------------------
    @staticmethod
    def _is_secrets_manager(value_from):
        return value_from.startswith("arn:") and ":secretsmanager:" in value_from

    def _parameter(self, value_from, head):
        """(ARN, name) of an SSM parameter given by name or ARN; a malformed
        ARN fails the task as Fargate does."""
        if value_from.startswith("arn:"):
            match = SSM_PARAMETER_ARN.match(value_from)
            if not match:
                raise TaskFailed(head + f"invalid ssm parameters: {value_from}")
            return value_from, match.group("name")
        name = value_from if value_from.startswith("/") else "/" + value_from
        return f"arn:aws:ssm:{self.region}:{self.account}:parameter{name}", value_from

    def _customer_key(self, key_id, aws_managed="alias/aws/ssm"):
        """The ARN of a SecureString's (or secret's) key when it is a customer
        managed key (the AWS managed one needs no kms:Decrypt grant)."""
        if not key_id or key_id == aws_managed:
            return None
        try:
            key = self.b["kms"].describe_key(key_id)
        except Exception:  # a key that is gone: SSM could not have encrypted with it either
            return None
        if getattr(key, "key_manager", "CUSTOMER") == "AWS":
            return None
        return key.arn

    def _ecr_image(self, image):
        ecr = self.b["ecr_for"](image["account"], image["region"])
        repository = ecr.repositories.get(image["repository"])
        if repository is None:
            return None
        for found in repository.images:
            if image["digest"] and found.image_digest == image["digest"]:
                return found
            if image["tag"] and image["tag"] in (found.image_tags or []):
                return found
        return None


def parse_image(uri):
    """{'uri', 'ecr', 'account', 'region', 'repository', 'digest', 'tag'} of an image reference."""
    match = ECR_IMAGE.match(uri or "")
    if not match:
        return {"uri": uri, "ecr": False, "account": None, "region": None, "repository": None, "digest": None,
                "tag": None}
    found = match.groupdict()
    if not found["digest"] and not found["tag"]:
        found["tag"] = "latest"
    return {"uri": uri, "ecr": True, **found}
