# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small wrappers around the ACM calls acm_certificate_request makes.

Each takes a client made with retry_decorator=AWSRetry.jittered_backoff() and
passes aws_retry=True, so throttling is retried the amazon.aws way.
"""

from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict


def list_certificates(client, key_types):
    """Summaries of every certificate of the region, in every status and of every key type."""
    found = []
    kwargs = {"Includes": {"keyTypes": list(key_types)}}
    while True:
        page = client.list_certificates(aws_retry=True, **kwargs)
        found.extend(page.get("CertificateSummaryList", []))
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def describe_certificate(client, arn):
    return client.describe_certificate(CertificateArn=arn, aws_retry=True)["Certificate"]


def list_tags(client, arn):
    return boto3_tag_list_to_ansible_dict(client.list_tags_for_certificate(CertificateArn=arn, aws_retry=True).get("Tags", []))


def request_certificate(client, domain_name, other_names, key_algorithm, tags):
    kwargs = {
        "DomainName": domain_name,
        "ValidationMethod": "DNS",
        "KeyAlgorithm": key_algorithm,
        "Tags": ansible_dict_to_boto3_tag_list(tags),
    }
    if other_names:
        kwargs["SubjectAlternativeNames"] = list(other_names)
    return client.request_certificate(aws_retry=True, **kwargs)["CertificateArn"]


def add_tags(client, arn, tags):
    client.add_tags_to_certificate(CertificateArn=arn, Tags=ansible_dict_to_boto3_tag_list(tags), aws_retry=True)


def remove_tags(client, arn, keys, current):
    # RemoveTagsFromCertificate removes a key only when the value given matches too.
    client.remove_tags_from_certificate(
        CertificateArn=arn, Tags=[{"Key": k, "Value": current[k]} for k in keys], aws_retry=True
    )


def delete_certificate(client, arn):
    client.delete_certificate(CertificateArn=arn, aws_retry=True)
