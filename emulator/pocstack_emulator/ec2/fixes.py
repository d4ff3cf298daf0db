"""EC2 fidelity fixes: where moto 5.2.5 answers otherwise than AWS."""

DUPLICATE_ZONE = ("Found another VPC endpoint subnet in the availability zone of {subnet}. VPC endpoint "
                  "subnets should be in different availability zones supported by the VPC endpoint service.")


def patch_ec2_endpoint_subnets_one_per_zone():
    """An interface VPC endpoint has at most one subnet per availability zone.

    AWS: CreateVpcEndpoint and ModifyVpcEndpoint (AddSubnetIds) with two
    subnets of one zone answer 400 DuplicateSubnetsInSameZone, "Found another
    VPC endpoint subnet in the availability zone of subnet-... VPC endpoint
    subnets should be in different availability zones supported by the VPC
    endpoint service."
    moto 5.2.5: accepts them, and makes a network interface in each.
    Fix: refuse as AWS does, before anything is made.
    """
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models import vpcs

    cls = vpcs.VPCBackend
    original_create, original_modify = cls.create_vpc_endpoint, cls.modify_vpc_endpoint

    def check(backend, subnet_ids):
        zones = {}
        for subnet_id in subnet_ids or []:
            zone = backend.get_subnet(subnet_id).availability_zone
            if zone in zones and zones[zone] != subnet_id:
                raise EC2ClientError("DuplicateSubnetsInSameZone", DUPLICATE_ZONE.format(subnet=subnet_id))
            zones[zone] = subnet_id

    def create_vpc_endpoint(self, vpc_id, service_name, endpoint_type, *args, **kwargs):
        if endpoint_type and endpoint_type.lower() == "interface":
            subnet_ids = kwargs.get("subnet_ids", args[2] if len(args) > 2 else None)
            check(self, subnet_ids)
        return original_create(self, vpc_id, service_name, endpoint_type, *args, **kwargs)

    def modify_vpc_endpoint(self, vpc_id, policy_doc, add_subnets, remove_subnets, *args, **kwargs):
        if add_subnets:
            endpoint = self.describe_vpc_endpoints(vpc_end_point_ids=[vpc_id])[0]
            kept = [s for s in (endpoint.subnet_ids or []) if s not in (remove_subnets or [])]
            check(self, kept + [s for s in add_subnets if s not in kept])
        return original_modify(self, vpc_id, policy_doc, add_subnets, remove_subnets, *args, **kwargs)

    cls.create_vpc_endpoint, cls.modify_vpc_endpoint = create_vpc_endpoint, modify_vpc_endpoint
