"""Every fidelity fix, in the order they are applied (before moto serves).

Each fix is small, says what AWS really returns, and is tested in
emulator/tests/. Never bend role logic to moto: fix it here.
"""
from pocstack_emulator.acm import fixes as acm
from pocstack_emulator.appautoscaling import fixes as appautoscaling
from pocstack_emulator.ec2 import fixes as ec2
from pocstack_emulator.ecr import fixes as ecr_fixes
from pocstack_emulator.ecr import registry as ecr
from pocstack_emulator.ecs import fixes as ecs
from pocstack_emulator.elbv2 import fixes as elbv2

PATCHES = [
    elbv2.patch_elbv2_alb_default_attributes,
    elbv2.patch_elbv2_set_rule_priorities,
    elbv2.patch_elbv2_action_shape,
    elbv2.patch_elbv2_target_group_attributes,
    elbv2.patch_elbv2_target_group_load_balancer_arns,
    ecs.patch_ecs_service_deployment_fields,
    ecs.patch_ecs_service_awsvpc_defaults,
    ecs.patch_ecs_deleted_services_are_gone,
    ecs.patch_ecs_create_service_compute_fields,
    ecs.patch_ecs_task_definition_revisions,
    ecs.patch_ecs_service_target_groups,
    acm.patch_acm_imported_certificate_chain,
    acm.patch_acm_reimport_keeps_tags,
    appautoscaling.patch_appautoscaling_missing_objects,
    appautoscaling.patch_appautoscaling_policy_filters,
    appautoscaling.patch_appautoscaling_register_moves_desired_count,
    appautoscaling.patch_appautoscaling_tags,
    ecr.patch_ecr_authorization_proxy_endpoint,
    acm.patch_acm_request_key_algorithm,
    acm.patch_acm_dns_validation_needs_records,
    acm.patch_acm_in_use_by_load_balancers,
    acm.patch_acm_import_key_must_match,
    ec2.patch_ec2_endpoint_subnets_one_per_zone,
    ecr_fixes.patch_ecr_repositories_in_the_tagging_api,
]


def apply_patches():
    for patch in PATCHES:
        patch()
