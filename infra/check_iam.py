"""Expand template.yaml with the SAM translator (as CloudFormation will) and fail on any IAM
Allow statement whose action contains `*`, or whose Resource is `*` for actions that can be
scoped, or that grants S3 on anything but the media bucket; so SAM policy templates are
checked too, not only the statements written by hand. A Deny may use a wildcard (the
bucket's TLS-only policy denies s3:*). Run by infra/ci_checks.sh with the .venv-sam
interpreter."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
# The translator wants S3 locations where `sam package` would put them.
LOCAL_TO_S3 = {
    "CodeUri: functions/": "CodeUri: s3://bucket/functions.zip",
    "DefinitionUri: statemachine/video_pipeline.asl.json": "DefinitionUri: s3://bucket/definition.json",
    "DefinitionUri: statemachine/segment_media.asl.json": "DefinitionUri: s3://bucket/segment_media.json",
    "ContentUri: layers/ffmpeg/": "ContentUri: s3://bucket/ffmpeg.zip",
    "Location: infra/network.yaml": "Location: https://s3.amazonaws.com/bucket/network.yaml",
    "Location: infra/database.yaml": "Location: https://s3.amazonaws.com/bucket/database.yaml",
}


# Actions IAM only grants on Resource "*" (they name no resource ARN).
UNSCOPABLE = {
    "states:SendTaskSuccess",
    "states:SendTaskFailure",
    "states:SendTaskHeartbeat",
    "cloudwatch:PutMetricData",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    # Step Functions' log delivery (vended logs) is granted on "*" only
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    # its only resource type is a lexicon, and the bot uses none
    "polly:SynthesizeSpeech",
}


def _list(value) -> list:
    return value if isinstance(value, list) else [value]


def scoping_problem(statement: dict) -> str | None:
    """Why an Allow statement's Resource is too broad, or None."""
    actions = [a for a in _list(statement.get("Action", [])) if isinstance(a, str)]
    resources = _list(statement.get("Resource", "*"))
    if "*" in resources and not set(actions) <= UNSCOPABLE:
        return "Resource * for " + ", ".join(sorted(set(actions) - UNSCOPABLE))
    if any(a.startswith("s3:") for a in actions) and not all("MediaBucket" in json.dumps(r) for r in resources):
        return "S3 granted beyond the media bucket"
    return None


class _NoManagedPolicies:
    def load(self) -> dict:
        return {}


def statements(node):
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "NotAction" in node):
            yield node
        for value in node.values():
            yield from statements(value)
    elif isinstance(node, list):
        for value in node:
            yield from statements(value)


def main() -> int:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    for local, remote in LOCAL_TO_S3.items():
        if local not in text:
            print(f"check_iam: {local!r} not found in template.yaml; update LOCAL_TO_S3", file=sys.stderr)
            return 1
        text = text.replace(local, remote)
    expanded = transform(yaml_parse(text), {}, _NoManagedPolicies())
    found = list(statements(expanded))
    bad, broad = [], []
    for statement in found:
        if statement.get("Effect") == "Deny":
            continue
        if "NotAction" in statement or "NotResource" in statement:
            bad.append(statement)
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(not isinstance(a, str) or "*" in a for a in actions):
            bad.append(statement)
        elif "Principal" not in statement and (problem := scoping_problem(statement)):  # not a trust policy
            broad.append({"problem": problem, "statement": statement})
    attached = [
        arn
        for res in expanded["Resources"].values()
        if res["Type"] == "AWS::IAM::Role"
        for arn in res["Properties"].get("ManagedPolicyArns", [])
    ]
    # This template's own managed policies (their statements are among `found`) vs AWS's.
    own = sorted({arn["Ref"] for arn in attached if isinstance(arn, dict) and set(arn) == {"Ref"}})
    managed = sorted(
        {
            arn if isinstance(arn, str) else json.dumps(arn)
            for arn in attached
            if not (isinstance(arn, dict) and set(arn) == {"Ref"})
        }
    )
    if bad:
        print("IAM statements with a wildcard action:", json.dumps(bad, indent=1), file=sys.stderr)
        return 1
    if broad:
        print("IAM statements with a Resource broader than they need:", json.dumps(broad, indent=1), file=sys.stderr)
        return 1
    print(
        f"{len(found)} IAM statements after SAM's expansion, none with a wildcard action, "
        "each Resource scoped (S3 to the media bucket)"
    )
    print("AWS managed policies SAM attaches (no wildcard actions):", ", ".join(a.rsplit("/", 1)[-1] for a in managed))
    print("this template's managed policies, attached to the roles:", ", ".join(own) or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
