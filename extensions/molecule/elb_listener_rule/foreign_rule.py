#!/usr/bin/env python3
"""Create, once, a rule on the pocstack HTTPS listener the way another tool
would: plain boto3, no tags. elb_listener_rule must never touch it.

    foreign_rule.py ENDPOINT_URL   -> prints the rule as DescribeRules returns it (JSON)
"""
import json
import sys

import boto3

PATH = "/foreign*"


def main(endpoint):
    elb = boto3.client("elbv2", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    lb = elb.describe_load_balancers(Names=["pocstack"])["LoadBalancers"][0]
    listener = next(lst for lst in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]
                    if lst["Port"] == 443)
    for rule in elb.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]:
        if any(PATH in (c.get("Values") or []) for c in rule["Conditions"]):
            break
    else:
        rule = elb.create_rule(
            ListenerArn=listener["ListenerArn"], Priority=900,
            Conditions=[{"Field": "path-pattern", "Values": [PATH]}],
            Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "410"}}],
        )["Rules"][0]
    print(json.dumps(rule))


if __name__ == "__main__":
    main(sys.argv[1])
