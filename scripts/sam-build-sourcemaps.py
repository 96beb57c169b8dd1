"""What `sam build` does to a template's NODE_OPTIONS, for the tests: SAM CLI's esbuild bundler
post-processing (samcli/lib/build/bundler.py, `_set_sourcemap_env_from_metadata`), restated.

For every function built with esbuild whose Metadata says `Sourcemap: true`, SAM CLI looks at the
function as its stack sees it (Globals merged in): unless NODE_OPTIONS there is a string that holds
`--enable-source-maps`, it takes the function's *own* Environment.Variables in the template it
writes, sets NODE_OPTIONS to "" if absent, and — when that value is a string — appends
" --enable-source-maps"; a value that is not a string (an intrinsic function such as !If) is left
as it is, with a warning. The template is loaded as YAML loads it, so a YAML alias shared by two
functions is one object, as it is for SAM CLI.

Usage: python3 scripts/sam-build-sourcemaps.py template.yaml > built.json
Exits 3 when cfn-lint (its YAML loader) is missing.
"""

import copy
import json
import sys

try:
    from cfnlint.decode import cfn_yaml
except ImportError as missing:  # pragma: no cover - reported to the test
    print(f"cfn-lint is not installed: {missing}", file=sys.stderr)
    sys.exit(3)

FLAG = "--enable-source-maps"


def variables(resource):
    return ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}


def flag_set(value):
    return isinstance(value, str) and FLAG in value.split()


def main(path):
    with open(path, encoding="utf-8") as handle:
        template = cfn_yaml.loads(handle.read(), path)
    # SAM CLI reads the stack (its own copy, Globals merged) and writes the template (where a YAML
    # alias is still one object): the two are apart, so a shared alias can be appended to twice.
    stack = copy.deepcopy(template)
    global_variables = variables({"Properties": (stack.get("Globals") or {}).get("Function") or {}})
    for name, resource in (template.get("Resources") or {}).items():
        stack_resource = stack["Resources"][name]
        metadata = stack_resource.get("Metadata") or {}
        if metadata.get("BuildMethod") != "esbuild":
            continue
        as_stack_sees_it = {**global_variables, **variables(stack_resource)}
        if not (metadata.get("BuildProperties") or {}).get("Sourcemap") or flag_set(as_stack_sees_it.get("NODE_OPTIONS")):
            continue
        own = resource.setdefault("Properties", {}).setdefault("Environment", {}).setdefault("Variables", {})
        existing = own.setdefault("NODE_OPTIONS", "")
        if isinstance(existing, str):
            own["NODE_OPTIONS"] = " ".join([existing, FLAG])
    json.dump(template, sys.stdout, default=str)


if __name__ == "__main__":
    main(sys.argv[1])
