"""Rendering of the collection's YAML and Jinja the way Ansible renders it,
for the unit tests of rendered policies: text read from a task file
or template is trusted as Ansible's own loaders trust it, then templated with
the variables a run would have."""
import os

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible.template import trust_as_template

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def trusted(value):
    """Strings (also nested in lists and dicts) as templates Ansible may render."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {k: trusted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [trusted(v) for v in value]
    return value


def load(*path):
    """A YAML file of the checkout, by its path from the checkout's root."""
    with open(os.path.join(ROOT, *path)) as fh:
        return yaml.safe_load(fh)


def named_task(tasks, name):
    [found] = [t for t in tasks if t.get("name") == name]
    return found


def templar(variables):
    return Templar(loader=DataLoader(), variables=variables)


def render(value, variables):
    """`value` (task text, or a template's text) rendered with `variables`."""
    return templar(variables).template(trusted(value))

