"""pocstack.aws.vpc_endpoints_to_ensure: the endpoints amazon.aws.ec2_vpc_endpoint
would create or retag, judged as it judges, so that fargate_service runs it for
those alone."""
from ansible_collections.pocstack.aws.plugins.filter.vpc_endpoints_to_ensure import vpc_endpoints_to_ensure

VPC, REGION = "vpc-1", "us-east-1"
TAGS = {"pocstack:managed-by": "pocstack.aws", "pocstack:cluster": "pocstack"}


def endpoint(name, route_tables=(), tags=None, vpc=VPC):
    tags = {**TAGS, "Name": f"pocstack-{name}"} if tags is None else tags
    return {"vpc_id": vpc, "service_name": f"com.amazonaws.{REGION}.{name}", "route_table_ids": list(route_tables),
            "tags": [{"key": k, "value": v} for k, v in tags.items()]}


def todo(names, existing, route_tables=("rtb-1",), tags=TAGS):
    return vpc_endpoints_to_ensure(names, existing, REGION, VPC, ["s3"], list(route_tables), tags, "pocstack-")


def test_endpoints_that_exist_with_their_tags_are_left_out():
    existing = [endpoint("ecr.api"), endpoint("s3", ["rtb-1"])]
    assert todo(["ecr.api", "s3"], existing) == []


def test_missing_ones_in_input_order():
    assert todo(["logs", "ecr.api", "s3"], [endpoint("ecr.api")]) == ["logs", "s3"]


def test_other_tags_an_other_name_or_a_missing_tag_need_the_module():
    assert todo(["ecr.api"], [endpoint("ecr.api", tags={**TAGS, "Name": "pocstack-ecr.api", "extra": "x"})]) == ["ecr.api"]
    assert todo(["ecr.api"], [endpoint("ecr.api", tags={**TAGS, "Name": "other"})]) == ["ecr.api"]
    assert todo(["ecr.api"], [endpoint("ecr.api", tags=TAGS)]) == ["ecr.api"]


def test_aws_tags_are_not_the_users_to_purge():
    tags = {**TAGS, "Name": "pocstack-ecr.api", "aws:cloudformation:stack-name": "x"}
    assert todo(["ecr.api"], [endpoint("ecr.api", tags=tags)]) == []


def test_route_tables_and_vpc_must_match_as_the_module_matches():
    # a gateway endpoint with other route tables is not the module's match: it would create one
    assert todo(["s3"], [endpoint("s3", ["rtb-2"])]) == ["s3"]
    assert todo(["s3"], [endpoint("s3", ["rtb-2", "rtb-1"])], route_tables=["rtb-1", "rtb-2"]) == []
    # an interface endpoint has no route tables
    assert todo(["ecr.api"], [endpoint("ecr.api", ["rtb-1"])]) == ["ecr.api"]
    assert todo(["ecr.api"], [endpoint("ecr.api", vpc="vpc-2")]) == ["ecr.api"]


def test_the_first_match_decides_as_in_the_module():
    stale = endpoint("ecr.api", tags={"Name": "old"})
    assert todo(["ecr.api"], [stale, endpoint("ecr.api")]) == ["ecr.api"]
    assert todo(["ecr.api"], [endpoint("ecr.api"), stale]) == []


def test_tag_values_compare_as_strings_and_dict_tags_are_read_too():
    ep = {**endpoint("ecr.api"), "tags": {**TAGS, "Name": "pocstack-ecr.api", "n": "1"}}
    assert todo(["ecr.api"], [ep], tags={**TAGS, "n": 1}) == []
    assert todo([], []) == []
