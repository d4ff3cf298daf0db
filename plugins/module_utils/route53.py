# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small wrappers around the Route 53 calls acm_certificate_request makes.

Each takes a client made with retry_decorator=AWSRetry.jittered_backoff() and
passes aws_retry=True, so throttling is retried the amazon.aws way.
"""


def get_zone(client, zone_id):
    """{Id, Name, Config} of a hosted zone; raises NoSuchHostedZone."""
    return client.get_hosted_zone(Id=zone_id, aws_retry=True)["HostedZone"]


def zones_named(client, name):
    """Every hosted zone whose name is exactly `name` (public and private ones)."""
    wanted = name.lower().rstrip(".") + "."
    found = []
    kwargs = {"DNSName": wanted}
    while True:
        page = client.list_hosted_zones_by_name(aws_retry=True, **kwargs)
        for zone in page.get("HostedZones", []):
            if zone["Name"].lower() != wanted:
                return found  # sorted by name: past the wanted one
            found.append(zone)
        if not page.get("IsTruncated"):
            return found
        kwargs = {"DNSName": page["NextDNSName"], "HostedZoneId": page["NextHostedZoneId"]}


def record_set(client, zone_id, name, record_type):
    """The record set of that name and type, or None."""
    page = client.list_resource_record_sets(
        HostedZoneId=zone_id, StartRecordName=name, StartRecordType=record_type, MaxItems="1", aws_retry=True
    )
    for found in page.get("ResourceRecordSets", []):
        return found
    return None


def change_record_sets(client, zone_id, changes, comment):
    client.change_resource_record_sets(
        HostedZoneId=zone_id, ChangeBatch={"Comment": comment, "Changes": changes}, aws_retry=True
    )
