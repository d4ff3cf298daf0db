#!/usr/bin/env python3
"""The variables section of each role's README, generated from the role's
meta/argument_specs.yml, so the two cannot drift apart.

    python tests/role_docs.py --check   exit 1 and list the READMEs that differ
    python tests/role_docs.py           rewrite them

The section sits between the two marker lines below; everything else in a
README is written by hand. tests/unit/test_role_docs.py runs the check.
"""
import argparse
import os
import re
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BEGIN = "<!-- BEGIN VARIABLES: generated from meta/argument_specs.yml by tests/role_docs.py -->"
END = "<!-- END VARIABLES -->"


# Ansible's documentation markup (C(), O(), M(), E(), ...) as Markdown.
_MARKUP = re.compile(r"\b([CIBOVEMPLU])\(([^()]*(?:\([^()]*\)[^()]*)*)\)")


def _markdown(text):
    def convert(match):
        kind, body = match.groups()
        if kind in "IB":
            return f"*{body}*" if kind == "I" else f"**{body}**"
        if kind == "E":
            return f"`${body}`"
        if kind in "LU":
            return body
        return f"`{body}`"

    return _MARKUP.sub(convert, text)


def _text(value):
    if isinstance(value, list):
        value = " ".join(str(v) for v in value)
    return _markdown(str(value or ""))


def _default(spec):
    if spec.get("required"):
        return "required"
    if "default" not in spec:
        return ""
    # YAML flow style: quotes exactly where YAML needs them ('200', '{{ ... }}')
    rendered = yaml.safe_dump(spec["default"], default_flow_style=True, width=1000)
    return f"`{rendered.replace(chr(10) + '...', '').strip()}`"


def _type(spec):
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        kind = f"list of {spec['elements']}"
    if spec.get("choices"):
        kind += f" ({', '.join(str(c) for c in spec['choices'])})"
    return kind


def _rows(options, prefix=""):
    rows = []
    for name, spec in options.items():
        description = _text(spec.get("description")).replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{prefix}{name}` | {_type(spec)} | {_default(spec)} | {description} |")
        if spec.get("options"):
            rows.extend(_rows(spec["options"], prefix=f"{prefix}{name}."))
    return rows


def render(specs):
    lines = [BEGIN, ""]
    for entry, spec in specs["argument_specs"].items():
        lines.append(f"### Entry point `{entry}`: {spec.get('short_description', '')}")
        lines.append("")
        description = _text(spec.get("description"))
        if description:
            lines.append(description)
            lines.append("")
        lines.append("| variable | type | default | description |")
        lines.append("|---|---|---|---|")
        lines.extend(_rows(spec.get("options", {})))
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def roles():
    """The roles whose README has the generated section (the markers)."""
    base = os.path.join(ROOT, "roles")
    found = []
    for role in sorted(os.listdir(base)):
        readme = os.path.join(base, role, "README.md")
        specs = os.path.join(base, role, "meta", "argument_specs.yml")
        if os.path.exists(specs) and os.path.exists(readme):
            with open(readme) as fh:
                if BEGIN in fh.read():
                    found.append(role)
    return found


def expected_readme(role):
    base = os.path.join(ROOT, "roles", role)
    with open(os.path.join(base, "meta", "argument_specs.yml")) as fh:
        specs = yaml.safe_load(fh)
    with open(os.path.join(base, "README.md")) as fh:
        current = fh.read()
    if BEGIN not in current or END not in current:
        raise SystemExit(f"roles/{role}/README.md has no generated variables section; add the lines\n{BEGIN}\n{END}")
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return current, head + render(specs) + tail


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report the READMEs that are out of date")
    parser.add_argument("roles", nargs="*", help="roles to handle (default: every role whose README has the markers)")
    args = parser.parse_args(argv)
    stale = []
    for role in args.roles or roles():
        current, expected = expected_readme(role)
        if current != expected:
            stale.append(role)
            if not args.check:
                with open(os.path.join(ROOT, "roles", role, "README.md"), "w") as fh:
                    fh.write(expected)
                print(f"rewrote roles/{role}/README.md")
    if stale and args.check:
        print(
            "README variables out of date with meta/argument_specs.yml (run python tests/role_docs.py): "
            + ", ".join(f"roles/{r}/README.md" for r in stale)
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
