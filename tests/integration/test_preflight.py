"""Bad inventories get one clear answer before anything is created.

One table of services, each with one mistake (a few with several), goes into a
single inventory; one run of site.yml must fail in preflight, report every
service's mistakes together (naming the variable and what is allowed), and
make no mutating AWS call, counted by the emulator. Good values at the edges
sit in the same inventory and must not be reported. Shared and account-level
mistakes (ALB name, subnets, certificate) need their own runs.
"""
import json
import os
import subprocess
import sys

import pytest

from data_plane import clients
from harness import GOOD_SECRETS
from harness import ROOT
from harness import make_inventory

CPU = "allowed: 256, 512, 1024, 2048, 4096, 8192, 16384"
ENV_NAME = "allowed: letters, digits and '_', not starting with a digit"
PATH_RULE = "allowed: a path pattern: start with '/' or '*', at most 128 characters"
HOST_RULE = "at most 128 characters of letters, digits, '-', '.'"

OIDC = {"type": "authenticate-oidc", "issuer": "https://login.example.com",
        "authorization_endpoint": "https://login.example.com/authorize", "token_endpoint": "https://login.example.com/token",
        "user_info_endpoint": "https://login.example.com/userinfo", "client_id": "poc", "client_secret": "oidc-s3cret"}

# (service name, variables that differ from plotly, expected fragments of its report)
BAD = [
    ("cpu-unknown", {"poc_cpu": 300}, ["poc_cpu=300 is not a Fargate CPU value", CPU]),
    ("cpu-text", {"poc_cpu": "big"}, ["poc_cpu='big'", CPU]),
    ("mem-256", {"poc_memory": 4096}, ["poc_memory=4096 does not fit poc_cpu=256", "allowed memory (MiB): 512, 1024, 2048"]),
    ("mem-1024", {"poc_cpu": 1024, "poc_memory": 1024}, ["poc_memory=1024 does not fit poc_cpu=1024", "2048-8192 in steps of 1024"]),
    ("mem-8192", {"poc_cpu": 8192, "poc_memory": 20000}, ["poc_memory=20000", "16384-61440 in steps of 4096"]),
    ("mem-16384", {"poc_cpu": 16384, "poc_memory": 16384}, ["poc_memory=16384", "32768-122880 in steps of 8192"]),
    ("mem-4096-max", {"poc_cpu": 4096, "poc_memory": 31744}, ["poc_memory=31744", "8192-30720 in steps of 1024"]),
    ("image-platform", {"poc_image": {"source": "build", "repository": "pocstack/x", "platform": "arm64"}},
     ["poc_image.platform='arm64' is not allowed; allowed: linux/amd64, linux/arm64"]),
    ("rule-wildcards", {"poc_path_patterns": ["/*/*/*", "/api/*/v?/*"]},
     ["poc_path_patterns + poc_host_headers: 6 wildcards (* and ?); a listener rule allows at most 5"]),
    ("port-zero", {"poc_container_port": 0}, ["poc_container_port=0 is out of range; allowed: 1-65535 (a TCP port)"]),
    ("port-high", {"poc_container_port": 70000}, ["poc_container_port=70000", "allowed: 1-65535"]),
    ("port-text", {"poc_container_port": "http"}, ["poc_container_port='http'", "allowed: 1-65535"]),
    ("a-very-long-service-name-x28", {}, ["service name 'a-very-long-service-name-x28' has 28 characters", "at most 25"]),
    ("host-underscore-name", {"poc_host": "bad_host.poc.example.com"},
     ["poc_host='bad_host.poc.example.com' is not a host name", "labels of 1-63 letters, digits and '-'"]),
    ("host-no-zone", {"poc_host": "example.com"}, ["its hosted zone would be 'com'", "set pocstack_hosted_zone"]),
    ("prio-zero", {"poc_priority": 0}, ["poc_priority=0 is out of range", "allowed: 1-50000"]),
    ("prio-high", {"poc_priority": 50001}, ["poc_priority=50001", "allowed: 1-50000"]),
    ("prio-negative", {"poc_priority": -3}, ["poc_priority=-3 is out of range", "allowed: 1-50000"]),
    ("prio-dup-a", {"poc_priority": 7}, ["poc_priority=7 is also used by prio-dup-b", "must be unique"]),
    ("prio-dup-b", {"poc_priority": 7}, ["poc_priority=7 is also used by prio-dup-a", "must be unique"]),
    ("path-relative", {"poc_path_patterns": ["dash*"]}, ["poc_path_patterns[0]='dash*' is not allowed", PATH_RULE]),
    ("path-long", {"poc_path_patterns": ["/" + "a" * 128]}, ["poc_path_patterns[0]='/aaa", "is not allowed", PATH_RULE]),
    ("path-space", {"poc_path_patterns": ["/a b"]}, ["poc_path_patterns[0]='/a b' is not allowed", PATH_RULE]),
    ("path-string", {"poc_path_patterns": "/dash*"}, ["poc_path_patterns='/dash*' must be a list of str (a YAML sequence), not a string"]),
    ("host-underscore", {"poc_host_headers": ["bad_host.example.com"]}, ["poc_host_headers: 'bad_host.example.com' is not a host name", HOST_RULE]),
    ("host-long", {"poc_host_headers": ["a" * 125 + ".com"]}, ["is not a host name", HOST_RULE]),
    ("too-many-values", {"poc_path_patterns": ["/a", "/b", "/c", "/d"], "poc_host_headers": ["x.example.com", "y.example.com"]},
     ["poc_path_patterns + poc_host_headers: 6 values", "at most 5"]),
    ("desired-negative", {"poc_desired_count": -1}, ["poc_desired_count=-1 is out of range; allowed: 0-5000"]),
    ("scaling-order", {"poc_desired_count": 1, "poc_autoscaling": {"min": 3, "max": 5}},
     ["min 3 <= poc_desired_count 1 <= max 5 does not hold", "allowed: min <= desired <= max"]),
    ("scaling-type", {"poc_autoscaling": "3-5"}, ["poc_autoscaling='3-5' must be a dict (a YAML mapping) with the keys min, max,"]),
    ("secret-digit", {"poc_secrets": [{"name": "1PASS", "value": "x"}]}, ["poc_secrets[0].name='1PASS' is not an environment variable name", ENV_NAME]),
    ("secret-dash", {"poc_secrets": [{"name": "PLOTLY-PASS", "value": "x"}]}, ["poc_secrets[0].name='PLOTLY-PASS'", ENV_NAME]),
    ("secret-novalue", {"poc_secrets": [{"name": "PLOTLY_PASS"}]}, ["poc_secrets[0] (PLOTLY_PASS) has no value", "ansible-vault, the environment or a lookup"]),
    ("secret-empty", {"poc_secrets": [{"name": "PLOTLY_PASS", "value": ""}]}, ["poc_secrets[0] (PLOTLY_PASS) has no value"]),
    # Ansible masks secret values wherever they occur in results: this one would garble the ARN.
    ("secret-in-arn", {"poc_secrets": [{"name": "PLOTLY_PASS", "value": "east"}]},
     ["poc_secrets[0] (PLOTLY_PASS): the value occurs in the parameter's own ARN (arn:aws:ssm:us-east-1:<account>:"
      "parameter/pocstack/secret-in-arn/PLOTLY_PASS)", "use a longer value"]),
    ("secret-digits", {"poc_secrets": [{"name": "PLOTLY_PASS", "value": "2024"}]},
     ["poc_secrets[0] (PLOTLY_PASS): the value occurs in the parameter's own ARN"]),
    ("secret-twice", {"poc_secrets": GOOD_SECRETS + [{"name": "PLOTLY_USER", "value": "again"}]}, ["poc_secrets[2].name='PLOTLY_USER' is listed twice"]),
    ("secret-and-env", {"poc_environment": {"PORT": "8050", "PLOTLY_USER": "admin"}}, ["poc_secrets[0].name='PLOTLY_USER' is also in poc_environment"]),
    ("secrets-not-list", {"poc_secrets": {"PLOTLY_PASS": "x"}},
     ["poc_secrets=(value hidden: no_log) must be a list of dict (a YAML sequence) with the keys name, value"]),
    ("secret-not-dict", {"poc_secrets": ["PLOTLY_PASS"]}, ["poc_secrets[0]=(value hidden: no_log) must be a dict (a YAML mapping) with the keys name, value"]),
    ("env-name", {"poc_environment": {"BAD-NAME": "1"}}, ["poc_environment: 'BAD-NAME' is not an environment variable name"]),
    ("image-source", {"poc_image": {"source": "docker"}}, ["poc_image.source='docker' is not allowed; allowed: existing, build, mirror"]),
    ("image-mirror-name", {"poc_image": {"source": "mirror"}}, ["poc_image.image is required with source 'mirror'"]),
    ("image-repo-case", {"poc_image": {"source": "existing", "repository": "Pocstack/Plotly"}},
     ["poc_image.repository='Pocstack/Plotly' is not allowed; allowed: an ECR repository name", "lower-case"]),
    ("image-repo-short", {"poc_image": {"source": "existing", "repository": "a"}}, ["poc_image.repository='a'", "2-256"]),
    ("image-tag", {"poc_image": {"source": "existing", "repository": "pocstack/x", "tag": "-bad"}},
     ["poc_image.tag='-bad' is not allowed; allowed: an image tag"]),
    ("image-type", {"poc_image": "pocstack/plotly:latest"}, ["poc_image='pocstack/plotly:latest' must be a dict"]),
    ("health-relative", {"poc_health_check_path": "health"},
     ["poc_health_check_path='health' is not allowed; allowed: a path starting with '/'"]),
    ("typo-var", {"poc_prority": 5}, ["poc_prority is not a known service variable (did you mean poc_priority?)",
                                    "known: poc_alb_login, poc_allow_shadowing, poc_assign_public_ip"]),
    ("login-http", {"poc_alb_login": dict(OIDC, issuer="http://login.example.com")},
     ["poc_alb_login: actions: authenticate-oidc issuer must be an https:// URL"]),
    ("login-type", {"poc_alb_login": {"type": "forward"}}, ["poc_alb_login must be a dict with type authenticate-oidc or authenticate-cognito"]),
    ("login-cognito", {"poc_alb_login": {"type": "authenticate-cognito"}}, ["poc_alb_login: actions: authenticate-cognito needs user_pool_arn"]),
    ("task-policy-star", {"poc_task_policy_statements": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
     ["poc_task_policy_statements[0]: Action '*' grants everything"]),
    ("task-policy-shape", {"poc_task_policy_statements": [{"Action": "s3:GetObject"}]},
     ["poc_task_policy_statements[0] needs Effect (Allow or Deny), Action and Resource"]),
    ("exec-text", {"poc_enable_execute_command": "yes"}, ["poc_enable_execute_command='yes' must be true or false"]),
    ("several", {"poc_cpu": 300, "poc_container_port": 0, "poc_secrets": [{"name": "A-B", "value": "x"}]},
     ["poc_cpu=300", "poc_container_port=0", "poc_secrets[0].name='A-B'"]),
    ("several-routing", {"poc_priority": 0, "poc_path_patterns": ["x"], "poc_host_headers": ["a b"]},
     ["poc_priority=0", "poc_path_patterns[0]='x'", "poc_host_headers: 'a b'"]),
    ("poc-undefined", {"poc_cpu": "{{ no_such_cpu }}"}, ["poc_cpu could not be evaluated", "no_such_cpu"]),
    # Rule order among the selected services (ALB's first match wins).
    ("order-front", {"poc_priority": 20001, "poc_path_patterns": ["/shared*"]},
     ["poc_priority=20001 puts order-front's rule (path-pattern /shared*) in front of order-back's (poc_priority=20002; "
      "path-pattern /shared/deep*), whose every request it matches: order-back would get no traffic",
      "or set poc_allow_shadowing: true"]),
    ("same-a", {"poc_path_patterns": ["/same*"]}, ["the listener rule of same-a has the same conditions as same-b's (path-pattern /same*)"]),
    ("same-b", {"poc_path_patterns": ["/same*"]}, ["the listener rule of same-b has the same conditions as same-a's"]),
    ("shadow-flag", {"poc_allow_shadowing": "yes"}, ["poc_allow_shadowing='yes' must be true or false"]),
    # Secrets given as plain environment; limits AWS enforces later.
    ("env-secret-name", {"poc_environment": {"PORT": "8050", "DB_PASSWORD": "env-s3cret-1"}},
     ["poc_environment: DB_PASSWORD looks like a secret (PASS, SECRET, TOKEN, KEY)", "move it to poc_secrets",
      "pocstack_audit_plain_environment_allowed"]),
    ("env-secret-value", {"poc_environment": {"DB_CONNECTION": GOOD_SECRETS[1]["value"]}},
     ["poc_environment: the value of DB_CONNECTION is the value of the secret PLOTLY_PASS (not shown)"]),
    ("secret-too-big", {"poc_secrets": GOOD_SECRETS[:1] + [{"name": "PLOTLY_PASS", "value": "x" * 4097}]},
     ["poc_secrets[1] (PLOTLY_PASS): the value has 4097 bytes; an SSM parameter holds at most 4096"]),
    ("health-newline", {"poc_health_check_path": "/health\n"},
     ["poc_health_check_path='/health\\n' has white space at its start or end"]),
    # The roles' own variables set in a service's host_vars (checked against the roles' argument specs).
    ("role-var-typo", {"alb_tls_idle_timout": 60},
     ["alb_tls_idle_timout is not a variable of the role pocstack.aws.alb_tls", "did you mean alb_tls_idle_timeout?"]),
    ("role-var-range", {"alb_tls_health_check_interval": 400},
     ["alb_tls_health_check_interval=400 is out of range; allowed: 5-300"]),
    ("role-var-pair", {"alb_tls_health_check_timeout": 6},
     ["alb_tls_health_check_timeout=6 must be less than alb_tls_health_check_interval=6"]),
    ("role-var-choice", {"alb_tls_scheme": "public"}, ["alb_tls_scheme='public' is not allowed; allowed: internet-facing, internal"]),
    ("role-var-list", {"alb_tls_ingress_cidrs": "10.0.0.0/8"}, ["alb_tls_ingress_cidrs='10.0.0.0/8' must be a list of str"]),
    ("role-var-cidr", {"alb_tls_ingress_cidrs": ["10.0.0.1/8"]}, ["alb_tls_ingress_cidrs[0]='10.0.0.1/8' is not allowed; allowed: CIDR"]),
    ("role-var-bool", {"fargate_service_assign_public_ip": "false"},
     ["fargate_service_assign_public_ip='false' must be true or false (a YAML boolean, unquoted)"]),
    ("role-var-newline", {"fargate_service_log_group": "/pocstack/x\n"}, ["fargate_service_log_group='/pocstack/x\\n' has white space"]),
    ("role-var-undefined", {"fargate_service_desired_count": "{{ no_such_variable }}"},
     ["fargate_service_desired_count could not be evaluated", "no_such_variable"]),
    ("role-var-key", {"fargate_service_autoscaling": {"min": 1, "max": 2, "cpu": 50}},
     ["fargate_service_autoscaling.cpu is not a known key (did you mean cpu_target?); allowed: min, max, cpu_target"]),
    ("role-var-limit", {"fargate_service_desired_count": 6000}, ["fargate_service_desired_count=6000 is out of range; allowed: 0-5000"]),
    ("role-var-secret", {"ssm_secrets_secrets": [{"name": "PASS", "value": "role-var-s3cret\n"}]},
     ["ssm_secrets_secrets[0].value=(value hidden: no_log) has white space"]),
]

# Good values at the edges: in the same inventory, never reported.
GOOD = [
    ("order-back", {"poc_priority": 20002, "poc_path_patterns": ["/shared/deep*"]}),  # order-front is reported
    ("allowed-front", {"poc_priority": 20003, "poc_path_patterns": ["/allowed*"], "poc_allow_shadowing": True}),
    ("allowed-back", {"poc_priority": 20004, "poc_path_patterns": ["/allowed/x"]}),
    ("edge-smallest", {"poc_cpu": 256, "poc_memory": 512}),
    ("edge-largest", {"poc_cpu": 16384, "poc_memory": 122880, "poc_priority": 50000}),
    ("a-long-service-name-exa25", {}),  # target group name <service>-<6 hex digits>: exactly 32 characters
    ("edge-host", {"poc_host": "Edge.poc.example.com", "poc_path_patterns": ["/a", "/b", "/c"],
                   "poc_host_headers": ["x.example.com"]}),  # 5 condition values with the host
    ("edge-five-values", {"poc_path_patterns": ["/a", "/b", "/c"], "poc_host_headers": ["x.example.com", "Y.example.com"]}),
    ("edge-scaling", {"poc_desired_count": 2, "poc_autoscaling": {"min": 2, "max": 2}, "poc_priority": 1}),
    ("edge-auto-priority", {"poc_priority": None}),  # automatic priority
    ("edge-access", {"poc_alb_login": OIDC, "poc_enable_execute_command": True,
                     "poc_task_policy_statements": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                                     "Resource": "arn:aws:s3:::poc-data/*"}]}),
]


def run(inventory, port, playbook="site.yml", extra=()):
    env = {**os.environ, "POCSTACK_EMULATOR_PORT": str(port), "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
           "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "AWS_URL": f"http://127.0.0.1:{port}",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
                           playbook, *extra], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout


def failure_message(stdout):
    result = json.loads(stdout)
    for play in result["plays"]:
        for task in play["tasks"]:
            for host in task["hosts"].values():
                if host.get("failed"):
                    return host["msg"]
    return ""


def sections(message):
    """The report, split into {service: text}."""
    out, current = {}, None
    for line in message.splitlines()[1:]:
        if not line.startswith("  "):
            current = line.rstrip(":")
            out[current] = ""
        else:
            out[current] += line + "\n"
    return out


@pytest.fixture(scope="module")
def table_run(emulator, tmp_path_factory):
    inventory = make_inventory(tmp_path_factory.mktemp("table"), [(n, c) for n, c, _ in BAD] + GOOD)
    emulator.calls(reset=True)
    rc, stdout = run(inventory, emulator.port)
    return rc, sections(failure_message(stdout)), emulator.calls()


def test_table_has_enough_cases():
    assert len(BAD) >= 40


def test_one_run_fails_before_any_change(table_run):
    rc, report, counted = table_run
    assert rc != 0
    assert counted["writes"] == 0, counted["calls"]
    assert counted["reads"] == 0, "preflight should fail before the first AWS call"
    assert set(report) == {name for name, _, _ in BAD}, "every bad service reported, no good one"


@pytest.mark.parametrize("name, changes, expected", BAD, ids=[case[0] for case in BAD])
def test_each_mistake_is_named_with_what_is_allowed(table_run, name, changes, expected):
    _, report, _ = table_run
    for fragment in expected:
        assert fragment in report.get(name, ""), f"{fragment!r} missing from:\n{report.get(name)}"


def test_secret_values_are_not_in_the_report(table_run):
    _, report, _ = table_run
    assert "again" not in report["secret-twice"]
    assert "oidc-s3cret" not in "".join(report.values())
    assert "role-var-s3cret" not in "".join(report.values())
    assert "env-s3cret-1" not in "".join(report.values()) and GOOD_SECRETS[1]["value"] not in "".join(report.values())


SHARED = [
    ({"pocstack_alb_name": "a-load-balancer-name-that-is-too-long"}, ["pocstack_alb_name", "has 37 characters; at most 32"]),
    ({"pocstack_alb_name": "-pocstack"}, ["pocstack_alb_name", "not starting or ending with '-'"]),
    ({"pocstack_ssm_prefix": "pocstack"}, ["pocstack_ssm_prefix='pocstack' must start with '/'"]),
    ({"pocstack_certificate_request": {"domain": "x.poc.example.com", "domain_name": "*.poc.example.com",
                                       "hosted_zone": "other.example.org", "wait_timeout": 0}},
     ["pocstack_certificate_request.domain is not known; allowed: domain_name, subject_alternative_names",
      "pocstack_certificate_request.domain_name='*.poc.example.com' is not in the hosted zone 'other.example.org'",
      "pocstack_certificate_request.wait_timeout=0 must be 1-7200 seconds"]),
    ({"pocstack_certificate_request": {"domain_name": "*.poc.example.com"},
      "pocstack_certificate_pem": {"certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n", "private_key": "s3cret-not-pem"}},
     ["pocstack_certificate_request and pocstack_certificate_pem are both set",
      "pocstack_certificate_pem.private_key must be a PEM private key"]),
    # The roles' own variables in group_vars/all: reported once, as shared.
    ({"alb_tls_health_check_timeout": 10, "fargate_service_wait_timout": 60},
     ["alb_tls_health_check_timeout=10 must be less than alb_tls_health_check_interval=6",
      "fargate_service_wait_timout is not a variable of the role pocstack.aws.fargate_service",
      "did you mean fargate_service_wait_timeout?"]),
]


ACCOUNT = [
    ({"pocstack_certificate_arn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc-123"},
     ["pocstack_certificate_arn is in region eu-west-1", "aws_region=us-east-1"]),
    ({"pocstack_certificate_arn": "my-cert.pem"}, ["pocstack_certificate_arn='my-cert.pem' is not an ACM certificate ARN"]),
    ({"pocstack_subnet_ids": "{{ hostvars['localhost']['pocstack_local']['subnet_ids'][:1] }}"},
     ["pocstack_subnet_ids", "cover 1 availability zone(s)", "at least 2"]),
    ({"pocstack_subnet_ids": ["subnet-00000000000000000"]}, ["pocstack_subnet_ids: subnet-00000000000000000 not found"]),
]


@pytest.mark.parametrize(
    "shared, expected, needs_account",
    [(*case, False) for case in SHARED] + [(*case, True) for case in ACCOUNT],
    ids=["alb-long", "alb-dash", "ssm-prefix", "cert-request", "cert-two-sources", "role-vars", "cert-region", "cert-not-arn", "one-az", "no-subnet"],
)
def test_shared_and_account_mistakes(emulator, tmp_path, shared, expected, needs_account):
    inventory = make_inventory(tmp_path, [("plotly", {})], shared)
    if needs_account:
        # what the reference design assumes exists (the local bootstrap); idempotent afterwards
        assert run(inventory, emulator.port, playbook="extensions/molecule/resources/bootstrap.yml")[0] == 0
    emulator.calls(reset=True)
    rc, stdout = run(inventory, emulator.port, extra=["-e", "service=plotly"])
    assert rc != 0
    report = sections(failure_message(stdout))
    for fragment in expected:
        assert fragment in report["(shared)"]
    assert emulator.calls()["writes"] == 0, emulator.calls()["calls"]


def test_unknown_service_lists_the_known_ones(emulator, tmp_path):
    inventory = make_inventory(tmp_path, [("plotly", {}), ("grafana", {})])
    emulator.calls(reset=True)
    rc, stdout = run(inventory, emulator.port, extra=["-e", "service=plotyl"])
    assert rc != 0
    message = failure_message(stdout)
    assert "service=plotyl is not a PoC service of this inventory" in message
    assert "Known services (host_vars files of the group poc_services): grafana, plotly" in message
    assert emulator.calls()["reads"] + emulator.calls()["writes"] == 0


LOCAL = "hostvars['localhost']['pocstack_local']"
NO_WAY_OUT = ["would stop with ResourceInitializationError", "route table", "sends 0.0.0.0/0 to igw-",
              "poc_assign_public_ip is false", "One way out is needed: poc_assign_public_ip: true",
              "task subnets with a NAT gateway route (pocstack_task_subnet_ids)", "the VPC endpoints ecr.api, ecr.dkr, s3, logs, ssm"]


def network_case(emulator, tmp_path, shared, services=(("plotly", {}),)):
    inventory = make_inventory(tmp_path, list(services), shared)
    assert run(inventory, emulator.port, playbook="extensions/molecule/resources/bootstrap.yml")[0] == 0
    emulator.calls(reset=True)
    rc, stdout = run(inventory, emulator.port, extra=["-e", "service=plotly"])
    assert emulator.calls()["writes"] == 0, emulator.calls()["calls"]
    return rc, sections(failure_message(stdout))


@pytest.mark.parametrize("shared, section, expected", [
    # The reference design's mistake: tasks in the ALB's public subnets, without a public IP,
    # NAT or endpoints (the S3 gateway endpoint serves the private route table only).
    ({"pocstack_task_subnet_ids": f"{{{{ {LOCAL}['subnet_ids'] }}}}", "pocstack_vpc_endpoints": []}, "plotly", NO_WAY_OUT),
    ({"pocstack_task_subnet_ids": f"{{{{ {LOCAL}['subnet_ids'] }}}}"}, "plotly", NO_WAY_OUT[:2] + ["no VPC endpoint for s3"]),
    ({"pocstack_vpc_endpoint_route_table_ids": []}, "(shared)",
     ["pocstack_vpc_endpoint_route_table_ids=[] leaves out rtb-", "the s3 gateway endpoint serves only the route tables"]),
    ({"pocstack_vpc_endpoints": ["ecr.api", "ecr", "s3"]}, "(shared)",
     ["pocstack_vpc_endpoints: 'ecr' unknown; allowed: ecr.api, ecr.dkr, s3, logs, ssm"]),
], ids=["public-no-ip", "public-no-s3-route", "s3-no-route-table", "unknown-endpoint"])
def test_network_mistakes_stop_before_any_write(emulator, tmp_path, shared, section, expected):
    rc, report = network_case(emulator, tmp_path, shared)
    assert rc != 0
    for fragment in expected:
        assert fragment in report.get(section, ""), f"{fragment!r} missing from {report}"


def test_a_public_ip_in_the_public_subnets_is_a_way_out(emulator, tmp_path):
    # The same public subnets with poc_assign_public_ip: the network check passes (the run goes on to deploy).
    shared = {"pocstack_task_subnet_ids": f"{{{{ {LOCAL}['subnet_ids'] }}}}", "pocstack_vpc_endpoints": []}
    inventory = make_inventory(tmp_path, [("plotly", {"poc_assign_public_ip": True})], shared)
    assert run(inventory, emulator.port, playbook="extensions/molecule/resources/bootstrap.yml")[0] == 0
    rc, stdout = run(inventory, emulator.port, extra=["-e", "service=plotly", "--check"])
    assert "ResourceInitializationError" not in stdout and "Target.NotInUse" not in stdout
    assert rc == 0, failure_message(stdout)


def test_task_zones_outside_the_load_balancers_and_endpoint_dns_off(emulator, tmp_path):
    inventory = make_inventory(tmp_path / "bootstrap", [("plotly", {})])
    assert run(inventory, emulator.port, playbook="extensions/molecule/resources/bootstrap.yml")[0] == 0
    ec2 = clients(emulator.port, names=["ec2"])["ec2"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["pocstack-local"]}])["Vpcs"][0]["VpcId"]
    stray = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.250.0/24", AvailabilityZone="us-east-1f")["Subnet"]["SubnetId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": False})
    try:
        shared = {"pocstack_task_subnet_ids": f"{{{{ {LOCAL}['task_subnet_ids'] + ['{stray}'] }}}}"}
        rc, report = network_case(emulator, tmp_path / "run", shared)
    finally:
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
        ec2.delete_subnet(SubnetId=stray)
    assert rc != 0
    assert (f"pocstack_task_subnet_ids: {stray} is in us-east-1f, where the load balancer has no subnet "
            "(pocstack_subnet_ids cover us-east-1a, us-east-1b): its tasks would never get traffic (Target.NotInUse)"
            ) in report["(shared)"]
    assert f"pocstack_vpc_endpoints: {vpc} has enableDnsHostnames off" in report["(shared)"]
    assert f"aws ec2 modify-vpc-attribute --vpc-id {vpc} --enable-dns-hostnames" in report["(shared)"]


def deployed_rule_of_echo(port):
    """What another service left on the account: the load balancer, its HTTPS
    listener and echo's host rule at priority 10 (owner tag as
    pocstack.aws.elb_listener_rule writes it). Returns the elbv2 client."""
    aws = clients(port, names=["ec2", "elbv2", "acm"])
    ec2, elbv2 = aws["ec2"], aws["elbv2"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["pocstack-local"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    zones = {}
    for subnet in subnets:
        zones.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
    certificate = aws["acm"].list_certificates()["CertificateSummaryList"][0]["CertificateArn"]
    lb = elbv2.create_load_balancer(Name="pocstack", Subnets=sorted(zones.values())[:2])["LoadBalancers"][0]
    listener = elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"], Protocol="HTTPS", Port=443, Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])["Listeners"][0]
    group = elbv2.create_target_group(Name="echo-80", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0]
    elbv2.create_rule(ListenerArn=listener["ListenerArn"], Priority=10,
                      Conditions=[{"Field": "host-header", "HostHeaderConfig": {"Values": ["echo.pocstack.localhost"]}}],
                      Actions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
                      Tags=[{"Key": "pocstack:rule-name", "Value": "echo"}, {"Key": "pocstack:service", "Value": "echo"}])
    return elbv2, listener["ListenerArn"]


def test_a_rule_that_would_take_a_deployed_services_traffic_stops_before_any_write(emulator, tmp_path):
    # greedy's catch-all at priority 9 would take every request of echo's rule at 10 (the
    # module would refuse it too, but only after greedy's image and secrets were written);
    # late's narrower rule (echo's host, one path) fits in front of echo's automatically.
    inventory = make_inventory(tmp_path, [("greedy", {"poc_priority": 9, "poc_path_patterns": None}),
                                          ("late", {"poc_priority": None, "poc_host": "echo.pocstack.localhost",
                                                    "poc_path_patterns": ["/late*"]})])
    assert run(inventory, emulator.port, playbook="extensions/molecule/resources/bootstrap.yml")[0] == 0
    elbv2, listener = deployed_rule_of_echo(emulator.port)
    before = elbv2.describe_rules(ListenerArn=listener)["Rules"]
    emulator.calls(reset=True)
    rc, stdout = run(inventory, emulator.port)
    assert rc != 0
    report = sections(failure_message(stdout))
    assert set(report) == {"greedy"}, report  # late's narrower rule goes in front of echo's automatically
    assert ("poc_priority=9, against the rules deployed on the listener: priority: 9 puts this rule (path-pattern *) "
            "in front of rule 'echo' at priority 10 (host-header echo.pocstack.localhost), whose every request it "
            "matches") in report["greedy"], report
    assert "or set poc_allow_shadowing: true" in report["greedy"]
    assert emulator.calls()["writes"] == 0, emulator.calls()["calls"]
    assert elbv2.describe_rules(ListenerArn=listener)["Rules"] == before


def test_a_parameter_another_tool_made_under_the_services_path_stops_before_any_write(emulator, tmp_path):
    # Someone put a plain parameter where the service's secret goes: the run must not
    # overwrite it (nor purge another under the same path), and must say so before writing.
    inventory = make_inventory(tmp_path, [("held", {})])
    assert run(inventory, emulator.port, playbook="extensions/molecule/resources/bootstrap.yml")[0] == 0
    ssm = clients(emulator.port, names=["ssm"])["ssm"]
    ssm.put_parameter(Name="/pocstack/held/PLOTLY_PASS", Value="theirs", Type="String")
    emulator.calls(reset=True)
    rc, stdout = run(inventory, emulator.port, extra=["-e", "service=held"])
    assert rc != 0
    message = failure_message(stdout)
    assert message.startswith("parameters: /pocstack/held/PLOTLY_PASS already exist without the tags "
                              "pocstack:managed-by=pocstack.aws, pocstack:service=held"), message
    assert "set ssm_secrets_adopt: true to take them over" in message, message
    assert emulator.calls()["writes"] == 0, emulator.calls()["calls"]
    stored = ssm.get_parameter(Name="/pocstack/held/PLOTLY_PASS")["Parameter"]
    assert (stored["Value"], stored["Type"], stored["Version"]) == ("theirs", "String", 1)


ROLE_ALONE = """
- name: A role used alone, as from Galaxy (no site playbook, no preflight)
  hosts: plotly
  gather_facts: false
  module_defaults:
    group/pocstack.aws.aws:
      region: "{{ aws_region }}"
      endpoint_url: "{{ aws_endpoint_url }}"
      access_key: "{{ aws_access_key }}"
      secret_key: "{{ aws_secret_key }}"
  tasks:
    - name: The load balancer and the service's routing, with a health check interval AWS refuses
      ansible.builtin.include_role:
        name: pocstack.aws.alb_tls
      vars:
        alb_tls_vpc_id: vpc-00000000000000000
        alb_tls_subnet_ids: [subnet-00000000000000001, subnet-00000000000000002]
        alb_tls_health_check_interval: 3
        alb_tls_health_check_timout: 2
"""


@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check"])
def test_a_role_used_alone_checks_its_variables_before_any_aws_call(emulator, tmp_path, check_mode):
    inventory = make_inventory(tmp_path, [("plotly", {})])
    playbook = tmp_path / "alone.yml"
    playbook.write_text(ROLE_ALONE)
    emulator.calls(reset=True)
    rc, stdout = run(inventory, emulator.port, playbook=str(playbook), extra=["--check"] if check_mode else [])
    assert rc != 0
    message = failure_message(stdout)
    assert message.startswith("pocstack.aws.alb_tls (main) stopped before its first AWS call; 3 mistake(s)"), message
    assert ("alb_tls_health_check_interval=3 is out of range; allowed: 5-300 (target group "
            "HealthCheckIntervalSeconds)") in message
    assert "alb_tls_health_check_timout is not a variable of the role pocstack.aws.alb_tls" in message
    assert "did you mean alb_tls_health_check_timeout?" in message
    assert "alb_tls_health_check_timeout=5 must be less than alb_tls_health_check_interval=3" in message
    assert emulator.calls()["reads"] + emulator.calls()["writes"] == 0, emulator.calls()["calls"]
