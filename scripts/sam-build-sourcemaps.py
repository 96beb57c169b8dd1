"""What `sam build` does about source maps, for the tests: SAM CLI's esbuild bundler pre- and
post-processing (samcli/lib/build/bundler.py, `set_sourcemap_metadata_from_env` and
`_set_sourcemap_env_from_metadata`, SAM CLI 1.164), restated.

SAM CLI reads the stack (its own copy: Globals merged, intrinsic functions resolved for the
parameter values given to `sam build`, defaults otherwise) and writes the template (as written,
where a YAML alias shared by two functions is still one object). For every function built with
esbuild:

- before the build, when its Metadata has no `Sourcemap` and its NODE_OPTIONS, as the stack
  resolves it, is a string holding `--enable-source-maps`, it sets `Sourcemap: true` (so esbuild
  writes the .map files), printing "--enable-source-maps set without Sourcemap, adding Sourcemap
  to Metadata BuildProperties for NAME";
- after it, when `Sourcemap` is true and that NODE_OPTIONS does not hold the flag, it takes the
  function's *own* Environment.Variables in the template it writes, sets NODE_OPTIONS to "" if
  absent and, when that value is a string, appends " --enable-source-maps" (printing "Sourcemap
  set without --enable-source-maps, adding --enable-source-maps to function NAME NODE_OPTIONS");
  a value that is not a string (an intrinsic function) is left as it is, and "NODE_OPTIONS is not
  a string!" is printed once.
Either step, when it acts, prints once "You are using source maps, note that this comes with a
performance hit! …".

How the stack resolves NODE_OPTIONS (samcli/lib/intrinsic_resolver): a string is itself; an
Fn::If resolves all its arguments first, and `Ref: AWS::NoValue` resolves to None, on which the
resolver fails — the value is then left unresolved (not a string), whatever the condition; an
Fn::If whose branches are strings gives the branch its condition picks (Fn::Equals, Fn::Not,
Fn::And, Fn::Or, Condition, Ref to a parameter). Any other intrinsic is refused here rather than
guessed.

Usage: python3 scripts/sam-build-sourcemaps.py template.yaml [Name=Value …] > built.json
Prints {"template": the template sam build writes, "sourcemaps": {function: whether esbuild
writes .map files}, "messages": what sam build prints about source maps}.
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
USING = (
    "You are using source maps, note that this comes with a performance hit!"
    " Set Sourcemap to false and remove NODE_OPTIONS: --enable-source-maps to disable source maps."
)
NOT_A_STRING = "NODE_OPTIONS is not a string! As a result, the NODE_OPTIONS environment variable will not be set correctly"


class Unresolved(Exception):
    """What SAM CLI's resolver cannot resolve: it leaves the value as written."""


def variables(resource):
    return ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}


def flag_set(value):
    return isinstance(value, str) and FLAG in value.split()


class Stack:
    def __init__(self, template, overrides):
        parameters = template.get("Parameters") or {}
        self.values = {name: str(p.get("Default", "")) for name, p in parameters.items()}
        self.values.update(overrides)
        self.conditions = template.get("Conditions") or {}

    def value(self, node):
        if isinstance(node, str):
            return node
        if not isinstance(node, dict) or len(node) != 1:
            raise ValueError(f"not restated here: {node!r}")
        [(key, arg)] = node.items()
        if key == "Ref":
            if arg == "AWS::NoValue":
                return None
            if arg not in self.values:
                raise ValueError(f"not restated here: Ref {arg}")
            return self.values[arg]
        if key == "Fn::If":
            # All three arguments are resolved before the condition is read; a None fails.
            branches = [self.value(branch) for branch in arg[1:]]
            if any(branch is None for branch in branches):
                raise Unresolved()
            return branches[0] if self.truth(self.conditions[arg[0]]) else branches[1]
        raise ValueError(f"not restated here: {key}")

    def truth(self, node):
        [(key, arg)] = node.items()
        if key == "Fn::Equals":
            return self.value(arg[0]) == self.value(arg[1])
        if key == "Fn::Not":
            return not self.truth(arg[0])
        if key == "Fn::And":
            return all(self.truth(c) for c in arg)
        if key == "Fn::Or":
            return any(self.truth(c) for c in arg)
        if key == "Condition":
            return self.truth(self.conditions[arg])
        raise ValueError(f"not restated here: {key}")

    def node_options(self, value):
        """NODE_OPTIONS as SAM CLI's stack holds it: resolved, or as written when it cannot be."""
        if value is None:
            return None
        try:
            return self.value(value)
        except Unresolved:
            return value


def main(path, overrides):
    with open(path, encoding="utf-8") as handle:
        template = cfn_yaml.loads(handle.read(), path)
    resolver = Stack(template, overrides)
    stack = copy.deepcopy(template)
    global_variables = variables({"Properties": (stack.get("Globals") or {}).get("Function") or {}})
    functions = [
        (name, resource, stack["Resources"][name])
        for name, resource in (template.get("Resources") or {}).items()
        if (stack["Resources"][name].get("Metadata") or {}).get("BuildMethod") == "esbuild"
    ]
    options = {
        name: resolver.node_options({**global_variables, **variables(stack_resource)}.get("NODE_OPTIONS"))
        for name, _, stack_resource in functions
    }
    messages = []
    # Before the build (on the stack): the flag without Sourcemap turns the maps on.
    using = False
    for name, resource, stack_resource in functions:
        if (stack_resource["Metadata"].get("BuildProperties") or {}).get("Sourcemap") is None and flag_set(options[name]):
            messages.append(f"--enable-source-maps set without Sourcemap, adding Sourcemap to Metadata BuildProperties for {name}")
            for written in (resource, stack_resource):
                written["Metadata"].setdefault("BuildProperties", {})["Sourcemap"] = True
            using = True
    if using:
        messages.append(USING)
    sourcemaps = {name: bool((s["Metadata"].get("BuildProperties") or {}).get("Sourcemap")) for name, _, s in functions}
    # After it (on the template it writes): Sourcemap without the flag appends it, to a string only.
    using, invalid = False, False
    for name, resource, _ in functions:
        if sourcemaps[name] and not flag_set(options[name]):
            messages.append(f"Sourcemap set without --enable-source-maps, adding --enable-source-maps to function {name} NODE_OPTIONS")
            own = resource.setdefault("Properties", {}).setdefault("Environment", {}).setdefault("Variables", {})
            existing = own.setdefault("NODE_OPTIONS", "")
            if isinstance(existing, str):
                own["NODE_OPTIONS"] = " ".join([existing, FLAG])
            else:
                invalid = True
            using = True
    if using:
        messages.append(USING)
    if invalid:
        messages.append(NOT_A_STRING)
    json.dump({"template": template, "sourcemaps": sourcemaps, "messages": messages}, sys.stdout, default=str)


if __name__ == "__main__":
    main(sys.argv[1], dict(arg.split("=", 1) for arg in sys.argv[2:]))
