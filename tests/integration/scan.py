#!/usr/bin/env python3
"""What of a PoC service (or of the shared infrastructure) exists in an account.

Reads every AWS service the collection touches through its own describe/list
calls, by name and by tag, independently of the roles and of the tagging API,
so that a teardown can be proven to leave nothing behind, and an interrupted
deploy to leave no duplicates.

    python tests/integration/scan.py plotly [--shared] [--endpoint URL]
prints one line per resource found and exits 1 if any.
"""
import argparse
import collections
import json
import os
import sys

import boto3

OWNER_TAG = "pocstack:rule-name"
SERVICE_TAG = "pocstack:service"


def clients(endpoint, region="us-east-1"):
    def make(name):
        return boto3.client(name, endpoint_url=endpoint, region_name=region,
                            aws_access_key_id="testing", aws_secret_access_key="testing")
    return make


def _tags(items, key="Key", value="Value"):
    return {t[key]: t[value] for t in items or []}


def inventory(endpoint, service, cluster="pocstack", alb="pocstack", prefix="/pocstack"):
    """{kind: [identifier, ...]} of everything named after or tagged for `service`."""
    make = clients(endpoint)
    found = collections.defaultdict(list)
    named = service.lower()

    elb = make("elbv2")
    groups = elb.describe_target_groups()["TargetGroups"]
    tags = {}
    arns = [g["TargetGroupArn"] for g in groups]
    for start in range(0, len(arns), 20):
        for d in elb.describe_tags(ResourceArns=arns[start:start + 20])["TagDescriptions"]:
            tags[d["ResourceArn"]] = _tags(d["Tags"])
    for group in groups:
        if group["TargetGroupName"].startswith(named + "-") or tags.get(group["TargetGroupArn"], {}).get(SERVICE_TAG) == service:
            found["target group"].append(group["TargetGroupName"])
    for lb in elb.describe_load_balancers()["LoadBalancers"]:
        for listener in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            rules = [r for r in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"] if not r["IsDefault"]]
            if not rules:
                continue
            described = elb.describe_tags(ResourceArns=[r["RuleArn"] for r in rules])["TagDescriptions"]
            for d in described:
                rule_tags = _tags(d["Tags"])
                if rule_tags.get(OWNER_TAG) == service or rule_tags.get(SERVICE_TAG) == service:
                    found["listener rule"].append(f"{lb['LoadBalancerName']}:{listener['Port']}")

    ecs = make("ecs")
    for cluster_arn in ecs.list_clusters()["clusterArns"]:
        service_arns = ecs.list_services(cluster=cluster_arn)["serviceArns"]
        if service_arns:
            for svc in ecs.describe_services(cluster=cluster_arn, services=service_arns)["services"]:
                if svc["status"] != "INACTIVE" and svc["serviceName"] == service:
                    found["ecs service"].append(f"{cluster_arn.rsplit('/', 1)[1]}/{service}")
    for status in ("ACTIVE", "INACTIVE"):
        for arn in ecs.list_task_definitions(familyPrefix=service, status=status)["taskDefinitionArns"]:
            if arn.rsplit("/", 1)[1].rsplit(":", 1)[0] == service:
                found[f"task definition ({status})"].append(arn.rsplit("/", 1)[1])

    scaling = make("application-autoscaling")
    for target in scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]:
        if target["ResourceId"].endswith("/" + service):
            found["scalable target"].append(target["ResourceId"])
    for policy in scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]:
        if policy["ResourceId"].endswith("/" + service):
            found["scaling policy"].append(policy["PolicyName"])

    ssm = make("ssm")
    paginator = ssm.get_paginator("describe_parameters")
    for page in paginator.paginate():
        for parameter in page["Parameters"]:
            if parameter["Name"].startswith(f"{prefix}/{service}/") or f"/{service}/" in parameter["Name"]:
                found["ssm parameter"].append(parameter["Name"])

    logs = make("logs")
    for group in logs.describe_log_groups()["logGroups"]:
        if group["logGroupName"].rstrip("/").split("/")[-1] == service:
            found["log group"].append(group["logGroupName"])

    iam = make("iam")
    for role in iam.list_roles()["Roles"]:
        role_tags = _tags(iam.list_role_tags(RoleName=role["RoleName"])["Tags"])
        if f"-{service}-" in role["RoleName"] or role_tags.get(SERVICE_TAG) == service:
            found["iam role"].append(role["RoleName"])

    ec2 = make("ec2")
    for group in ec2.describe_security_groups()["SecurityGroups"]:
        if f"-{service}-" in group["GroupName"] or _tags(group.get("Tags")).get(SERVICE_TAG) == service:
            found["security group"].append(group["GroupName"])

    ecr = make("ecr")
    for repo in ecr.describe_repositories()["repositories"]:
        repo_tags = _tags(ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"]).get("tags"))
        if repo["repositoryName"].split("/")[-1] == service or repo_tags.get(SERVICE_TAG) == service:
            found["ecr repository"].append(repo["repositoryName"])

    tagging = make("resourcegroupstaggingapi")
    for mapping in tagging.get_resources(TagFilters=[{"Key": SERVICE_TAG, "Values": [service]}])["ResourceTagMappingList"]:
        found["tagged"].append(mapping["ResourceARN"])
    return dict(found)


def shared_inventory(endpoint, cluster="pocstack", alb="pocstack"):
    """{kind: [identifier, ...]} of the shared infrastructure and the local bootstrap's resources."""
    make = clients(endpoint)
    found = collections.defaultdict(list)
    elb = make("elbv2")
    for lb in elb.describe_load_balancers()["LoadBalancers"]:
        found["load balancer"].append(lb["LoadBalancerName"])
    ecs = make("ecs")
    for arn in ecs.list_clusters()["clusterArns"]:
        status = ecs.describe_clusters(clusters=[arn])["clusters"][0]["status"]
        if status != "INACTIVE":
            found["ecs cluster"].append(arn.rsplit("/", 1)[1])
    ec2 = make("ec2")
    for group in ec2.describe_security_groups()["SecurityGroups"]:
        if group["GroupName"] != "default":
            found["security group"].append(group["GroupName"])
    for endpoint_ in ec2.describe_vpc_endpoints()["VpcEndpoints"]:
        if endpoint_["State"].lower() not in ("deleted", "deleting"):
            found["vpc endpoint"].append(endpoint_["ServiceName"])
    for vpc in ec2.describe_vpcs()["Vpcs"]:
        if not vpc.get("IsDefault"):
            found["vpc"].append(vpc["VpcId"])
    acm = make("acm")
    for cert in acm.list_certificates()["CertificateSummaryList"]:
        found["certificate"].append(cert["CertificateArn"])
    tagging = make("resourcegroupstaggingapi")
    for mapping in tagging.get_resources(TagFilters=[{"Key": "pocstack:managed-by"}])["ResourceTagMappingList"]:
        found["tagged pocstack:managed-by"].append(mapping["ResourceARN"])
    return dict(found)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("service")
    parser.add_argument("--shared", action="store_true", help="also the shared infrastructure")
    parser.add_argument("--endpoint", default=f"http://127.0.0.1:{os.environ.get('POCSTACK_EMULATOR_PORT', '4566')}")
    args = parser.parse_args(argv)
    found = inventory(args.endpoint, args.service)
    if args.shared:
        found.update({f"shared {k}": v for k, v in shared_inventory(args.endpoint).items()})
    print(json.dumps(found, indent=2, sort_keys=True))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
