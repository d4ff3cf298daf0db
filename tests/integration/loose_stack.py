"""A deliberately loose PoC stack in the style of the reference CloudFormation
template, built with boto3 (not with this collection), for the audit to judge.

    python tests/integration/loose_stack.py http://127.0.0.1:4650   # by hand

Every point of the audit's checklist is loosened once; LOOSENED says which
check must report it and at which severity (the highest of its findings).
"""
import json
import sys

import boto3

REGION = "us-east-1"
NAME = "loose"  # cluster, service, task family, repository
PORT = 8050

# check id -> highest severity the audit must report for this stack
LOOSENED = {
    "iam-action-wildcard": "high",               # inline logs:* and ssm:GetParameter*
    "iam-resource-wildcard": "high",             # the same statements on Resource "*"
    "iam-aws-managed-policy": "high",            # CloudWatchLogsFullAccess, AmazonSSMReadOnlyAccess, ...
    "iam-exec-role-foreign-parameters": "high",  # ssm:GetParameter* on "*"
    "iam-task-role-permissions": "low",          # the task role may read a bucket; nobody granted it
    "sg-alb-ingress": "high",                    # every protocol from 0.0.0.0/0
    "sg-task-ingress": "high",                   # every tcp port from 0.0.0.0/0
    "task-public-ip": "medium",                  # assignPublicIp ENABLED
    "listener-http-no-redirect": "high",         # HTTP 80 forwards to the service
    "listener-tls-policy": "high",               # ELBSecurityPolicy-2016-08 (TLS 1.0)
    "listener-default-forward": "low",           # HTTP 80's default action forwards
    "rule-no-condition": "medium",               # a rule on 443 without a condition
    "alb-drop-invalid-headers": "medium",        # attributes left at their defaults
    "alb-deletion-protection": "low",
    "alb-access-logs": "low",
    "env-plain-secret": "high",                  # DB_PASSWORD as a plain environment value
    "ssm-parameter-not-secure": "high",          # PLOTLY_USER and PLOTLY_PASS as String
    "log-retention": "medium",                   # log group kept forever
    "ecr-scan-on-push": "medium",                # repository without scan on push
    "ecr-tag-mutable": "medium",                 # mutable tags, and the task runs :latest
}

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
EXEC_MANAGED = ["service-role/AmazonECSTaskExecutionRolePolicy", "CloudWatchLogsFullAccess", "AmazonSSMReadOnlyAccess"]
EXEC_INLINE = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Secrets", "Effect": "Allow", "Action": ["ssm:GetParameter*", "kms:Decrypt"], "Resource": "*"},
    {"Sid": "Logs", "Effect": "Allow", "Action": "logs:*", "Resource": "*"},
]}
TASK_INLINE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::loose-poc-data/*"}]}


def build(endpoint_url):
    def client(name):
        return boto3.client(name, endpoint_url=endpoint_url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    ec2, elb, iam, ssm, logs, ecr, ecs, acm = (client(n) for n in ("ec2", "elbv2", "iam", "ssm", "logs", "ecr", "ecs", "acm"))
    account = client("sts").get_caller_identity()["Account"]

    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.77.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(zones)]
    alb_sg = ec2.create_security_group(GroupName=f"{NAME}-alb", Description="reference: everything", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=alb_sg, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    task_sg = ec2.create_security_group(GroupName=f"{NAME}-task", Description="reference: open tasks", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=task_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])

    lb = elb.create_load_balancer(Name=NAME, Subnets=subnets, SecurityGroups=[alb_sg], Scheme="internet-facing")
    lb_arn = lb["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name=f"{NAME}-{PORT}", Protocol="HTTP", Port=PORT, VpcId=vpc, TargetType="ip",
                                 HealthCheckPath="/health")["TargetGroups"][0]["TargetGroupArn"]
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=80, DefaultActions=forward)
    certificate = acm.request_certificate(DomainName="loose.example.com")["CertificateArn"]
    https = elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTPS", Port=443, SslPolicy="ELBSecurityPolicy-2016-08",
                                Certificates=[{"CertificateArn": certificate}],
                                DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}])
    # AWS requires a condition on every rule but the default; the emulator does not.
    elb.create_rule(ListenerArn=https["Listeners"][0]["ListenerArn"], Priority=1, Conditions=[], Actions=forward)

    exec_role = iam.create_role(RoleName=f"{NAME}-exec", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    for policy in EXEC_MANAGED:
        iam.attach_role_policy(RoleName=f"{NAME}-exec", PolicyArn=f"arn:aws:iam::aws:policy/{policy}")
    iam.put_role_policy(RoleName=f"{NAME}-exec", PolicyName="reference-extra", PolicyDocument=json.dumps(EXEC_INLINE))
    task_role = iam.create_role(RoleName=f"{NAME}-task", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    iam.put_role_policy(RoleName=f"{NAME}-task", PolicyName="app", PolicyDocument=json.dumps(TASK_INLINE))

    for secret in ("PLOTLY_USER", "PLOTLY_PASS"):
        ssm.put_parameter(Name=f"/{NAME}/{secret}", Value="reference-style", Type="String")
    logs.create_log_group(logGroupName=f"/ecs/{NAME}")
    repository = ecr.create_repository(repositoryName=NAME, imageTagMutability="MUTABLE",
                                       imageScanningConfiguration={"scanOnPush": False})["repository"]["repositoryUri"]

    ecs.create_cluster(clusterName=NAME)
    task_definition = ecs.register_task_definition(
        family=NAME, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        executionRoleArn=exec_role, taskRoleArn=task_role,
        containerDefinitions=[{
            "name": NAME, "image": f"{repository}:latest", "essential": True,
            "portMappings": [{"containerPort": PORT, "protocol": "tcp"}],
            "environment": [{"name": "PORT", "value": str(PORT)}, {"name": "DB_PASSWORD", "value": "reference-style"}],
            "secrets": [{"name": s, "valueFrom": f"arn:aws:ssm:{REGION}:{account}:parameter/{NAME}/{s}"}
                        for s in ("PLOTLY_USER", "PLOTLY_PASS")],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": f"/ecs/{NAME}", "awslogs-region": REGION, "awslogs-stream-prefix": "ecs"}},
        }],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(
        cluster=NAME, serviceName=NAME, taskDefinition=task_definition, desiredCount=1, launchType="FARGATE",
        loadBalancers=[{"targetGroupArn": tg, "containerName": NAME, "containerPort": PORT}],
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets, "securityGroups": [task_sg], "assignPublicIp": "ENABLED"}},
    )
    return {"cluster": NAME, "service": NAME, "alb_security_group": alb_sg, "task_security_group": task_sg}


if __name__ == "__main__":
    print(json.dumps(build(sys.argv[1])))
