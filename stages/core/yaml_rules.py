"""YAML read as DVC reads it: by YAML 1.2's rules, and refusing a key given twice.

DVC reads params.yaml and writes `dvc exp run -S` values with ruamel.yaml, by YAML 1.2's core
schema; PyYAML, whose marks the stages' error lines use, follows YAML 1.1. The loader here is
PyYAML's with YAML 1.2's rules for booleans, integers and floats.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# YAML 1.2's core schema, the rules by which DVC reads params.yaml and writes `dvc exp run -S`
# values (ruamel.yaml): `1e-7` is a number, `off` and `yes` are text, `010` is ten, `1:20` is
# text. PyYAML's own safe loader follows YAML 1.1, where each of these reads otherwise, so a
# stage would see another value than the one DVC records and shows.
_YAML_1_2 = {
    "tag:yaml.org,2002:bool": (r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    "tag:yaml.org,2002:int": (
        r"^[-+]?(?:0b[0-1_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$",
        "-+0123456789",
    ),
    "tag:yaml.org,2002:float": (
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
        r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
}


def load_yaml_1_2(text: str) -> Any:
    """A YAML document read by YAML 1.2's rules, as DVC reads it (for files DVC writes)."""
    import yaml

    return yaml.load(text, Loader=yaml_1_2_loader())


@functools.cache
def _yaml_1_2_loader() -> Any:
    import yaml

    class Yaml12(yaml.SafeLoader):
        def construct_yaml_int(self, node: Any) -> int:
            text = str(self.construct_scalar(node)).replace("_", "")
            sign = -1 if text[0] == "-" else 1
            digits = text.lstrip("+-")
            base = {"0b": 2, "0o": 8, "0x": 16}.get(digits[:2], 10)
            return sign * int(digits[2:] if base != 10 else digits, base)

    Yaml12.yaml_implicit_resolvers = {
        first: [(tag, rule) for tag, rule in rules if tag not in _YAML_1_2]
        for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    for tag, (rule, first) in _YAML_1_2.items():
        Yaml12.add_implicit_resolver(tag, re.compile(rule), list(first))
    Yaml12.add_constructor("tag:yaml.org,2002:int", Yaml12.construct_yaml_int)
    return Yaml12


@functools.cache
def yaml_1_2_loader() -> Any:
    """YAML 1.2's safe loader, refusing a key given twice in one mapping: plain YAML keeps the
    last silently, so a second `seed:` at the end of params.yaml would win unseen. (A merge
    key's overrides, `<<: *base` then `b: 2`, are no repeat.)"""
    import yaml

    class UniqueKeys(_yaml_1_2_loader()):
        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=deep)
                if not isinstance(key, str | int | float | bool):
                    continue  # an unhashable key is refused by the safe loader itself
                if key in seen:
                    problem = f"{key!r} is given twice (the last would win unseen): keep one"
                    mark = key_node.start_mark
                    raise yaml.constructor.ConstructorError(None, None, problem, mark)
                seen.add(key)
            return super().construct_mapping(node, deep)

    return UniqueKeys
