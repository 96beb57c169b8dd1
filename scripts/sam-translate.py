"""Translate template.yaml with AWS's own SAM translator (the `samtranslator` package that SAM
CLI and CloudFormation's AWS::Serverless transform run), exactly as a deploy would: the raw
template, no other transform applied first, CodeUri pointing at S3 as `sam package` leaves it.

Usage: python3 scripts/sam-translate.py template.yaml [Name=Value ...]
Prints the translated CloudFormation template as JSON; exits 3 when samtranslator is missing (not 2: Python
itself exits 2 when this script cannot be found),
1 (with the translator's message on stderr) when the template does not translate.
"""

import json
import os
import sys

# The translator derives the partition from a region; any commercial one gives `aws`.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

try:
    from samtranslator.parser import parser
    from samtranslator.translator.translator import Translator
    from samtranslator.model.exceptions import InvalidDocumentException
    from cfnlint.decode import cfn_yaml
    from cfnlint.data import Serverless
    from cfnlint.helpers import load_resource
except ImportError as missing:  # pragma: no cover - reported to the test, which skips loudly
    print(f"samtranslator or cfn-lint is not installed: {missing}", file=sys.stderr)
    sys.exit(3)


def plain(node):
    """cfn-lint's decoder returns dict and str subclasses carrying line marks; SAM wants plain ones."""
    if isinstance(node, dict):
        return {str(key): plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [plain(value) for value in node]
    if isinstance(node, str):
        return str(node)
    return node


def main(path, assignments):
    with open(path, encoding="utf-8") as handle:
        template = plain(cfn_yaml.loads(handle.read(), path))
    for resource in template.get("Resources", {}).values():
        if not isinstance(resource, dict):
            continue  # e.g. Fn::ForEach, which only the LanguageExtensions transform expands
        properties = resource.get("Properties")
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(properties, dict) and isinstance(properties.get("CodeUri"), str):
            properties["CodeUri"] = "s3://packaged-artifacts/function.zip"
    parameters = dict(assignment.split("=", 1) for assignment in assignments)
    # The AWS-managed policy names SAM may attach, mapped to their ARNs without calling IAM.
    policies = load_resource(Serverless, "ManagedPolicies.json")
    translator = Translator(managed_policy_map=policies, sam_parser=parser.Parser())
    try:
        translated = translator.translate(sam_template=template, parameter_values=parameters)
    except InvalidDocumentException as error:
        print("; ".join(cause.message for cause in error.causes), file=sys.stderr)
        sys.exit(1)
    except Exception as error:  # the translator's plugins raise plain exceptions too
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    json.dump(translated, sys.stdout, indent=1, sort_keys=True, default=str)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
