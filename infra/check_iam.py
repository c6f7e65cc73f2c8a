"""Expand template.yaml with the SAM translator (as CloudFormation will) and fail on any IAM
statement whose action contains `*`, so SAM policy templates are checked too, not only the
statements written by hand. Run by infra/ci_checks.sh with the .venv-sam interpreter."""

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
    "ContentUri: layers/ffmpeg/": "ContentUri: s3://bucket/ffmpeg.zip",
    "Location: infra/network.yaml": "Location: https://s3.amazonaws.com/bucket/network.yaml",
    "Location: infra/database.yaml": "Location: https://s3.amazonaws.com/bucket/database.yaml",
}


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
    bad = []
    for statement in found:
        if "NotAction" in statement:
            bad.append(statement)
            continue
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if any(not isinstance(a, str) or "*" in a for a in actions):
            bad.append(statement)
    attached = [arn for res in expanded["Resources"].values() if res["Type"] == "AWS::IAM::Role"
                for arn in res["Properties"].get("ManagedPolicyArns", [])]
    # This template's own managed policies (their statements are among `found`) vs AWS's.
    own = sorted({arn["Ref"] for arn in attached if isinstance(arn, dict) and set(arn) == {"Ref"}})
    managed = sorted({arn if isinstance(arn, str) else json.dumps(arn) for arn in attached
                      if not (isinstance(arn, dict) and set(arn) == {"Ref"})})
    if bad:
        print("IAM statements with a wildcard action:", json.dumps(bad, indent=1), file=sys.stderr)
        return 1
    print(f"{len(found)} IAM statements after SAM's expansion, none with a wildcard action")
    print("AWS managed policies SAM attaches (no wildcard actions):", ", ".join(a.rsplit("/", 1)[-1] for a in managed))
    print("this template's managed policies, attached to the roles:", ", ".join(own) or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
