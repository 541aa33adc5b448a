"""The team's Label Studio labeling config: what a relabel task must look like to import.

Label Studio shows a task's pre-annotation only when its ``from_name`` is a ``<Choices>``
control of the project's config, its ``to_name`` an object that control labels, and each
choice one of that control's ``<Choice>`` values, spelled as there; the objects read their
content from the task's ``data`` (``<Text value="$text">`` reads ``data["text"]``). Read from
the config the team already has, the tasks fit it by construction, and a label the config
cannot express is an error before anything is written.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.core.errors import DataError
from stages.core.label_set import label_key


@dataclass(frozen=True)
class TaskShape:
    """Names and spellings a relabel task uses; ``data_keys`` None: every text column."""

    from_name: str
    to_name: str
    spelling: dict[str, str]  # label -> the config's choice value
    data_keys: tuple[str, ...] | None

    def choice(self, label: str) -> str:
        return self.spelling.get(label, label)


def task_shape(options: dict[str, Any], labels: list[str]) -> TaskShape:
    """From ``label_merge.relabel``: its ``config`` file, else ``from_name`` and ``to_name``."""
    path = options.get("config")
    if not path:
        return TaskShape(options["from_name"] or "label", options["to_name"] or "text", {}, None)
    return read_config(Path(path), options.get("from_name"), options.get("to_name"), labels)


def read_config(
    path: Path, from_name: str | None, to_name: str | None, labels: list[str]
) -> TaskShape:
    try:
        found = path.is_file()
    except (OSError, ValueError):  # a name the file system cannot hold
        found = False
    if not found:
        raise DataError(path, None, "no such labeling config: set label_merge.relabel.config to "
                        "your Label Studio project's (Settings > Labeling Interface > Code, saved "
                        "as XML), or to null to name the controls yourself")  # fmt: skip
    try:
        root = ElementTree.fromstring(path.read_bytes())
    except (ElementTree.ParseError, ValueError, LookupError) as error:  # Lookup: an encoding
        raise DataError(path, None, f"not a Label Studio labeling config (XML): {error}") from None
    control = _choices_control(path, root, from_name)
    objects = {element.get("name"): element for element in root.iter() if element.get("name")}
    targets = [name.strip() for name in (control.get("toName") or "").split(",")]
    if to_name and to_name not in targets:
        raise DataError(path, f'<Choices name="{control.get("name")}">',
                        f'labels {targets}, not "{to_name}" (relabel.to_name)')  # fmt: skip
    to_name = to_name or targets[0]
    if to_name not in objects or to_name == control.get("name"):
        raise DataError(path, f'<Choices name="{control.get("name")}">',
                        f'toName "{to_name}" names no object tag of the config')  # fmt: skip
    # A label matches a choice's value or alias; Label Studio's results carry the alias if set.
    by_form = {
        label_key(spelled): element.get("alias") or element.get("value") or ""
        for element in control.iter()
        if element.tag == "Choice"
        for spelled in (element.get("value"), element.get("alias"))
        if spelled
    }
    missing = [label for label in labels if label_key(label) not in by_form]
    without_label_studio = "without Label Studio, leave label_merge.relabel.config empty"
    if missing and len(missing) == len(labels):  # another project's config: the demo's, say
        choices = ", ".join(map(repr, list(dict.fromkeys(by_form.values()))[:5])) or "none"
        raise DataError(path, f'<Choices name="{control.get("name")}">',
                        f"no label of data.labels has a <Choice> (its choices: {choices}): "
                        f"put your team's Label Studio config here; "
                        f"{without_label_studio}")  # fmt: skip
    if missing:
        raise DataError(path, f'<Choices name="{control.get("name")}">',
                        f"no <Choice> for the label(s) {', '.join(map(repr, missing))}: add "
                        f'<Choice value="{missing[0]}"/>, or map them in data.aliases; '
                        f"{without_label_studio}")  # fmt: skip
    keys = sorted({
        value[1:] for element in root.iter()
        if (value := element.get("value") or "").startswith("$") and len(value) > 1
    })  # fmt: skip
    spelling = {label: by_form[label_key(label)] for label in labels}
    return TaskShape(str(control.get("name")), to_name, spelling, tuple(keys))


def _choices_control(path: Path, root: ElementTree.Element, wanted: str | None) -> Any:
    controls = [element for element in root.iter() if element.tag == "Choices"]
    names = [str(element.get("name")) for element in controls]
    if wanted:
        if wanted not in names:
            raise DataError(path, None, f'no <Choices name="{wanted}"> (label_merge.relabel.'
                            f"from_name); the config has {names or 'none'}")  # fmt: skip
        return controls[names.index(wanted)]
    if len(controls) != 1:
        raise DataError(path, None, f"{len(controls)} <Choices> controls ({names}): set "
                        "label_merge.relabel.from_name to the one the labels go to")  # fmt: skip
    return controls[0]


def check_data(path: str | None, shape: TaskShape, columns: list[str]) -> None:
    """Every ``$key`` the config reads must be a column of the items table."""
    missing = [key for key in shape.data_keys or () if key not in columns]
    if missing and path:
        raise DataError(path, None, f"the config reads ${missing[0]}, but the items table has no "
                        f"text column {missing[0]!r} (it has {columns}): add it to your items, or "
                        "change the config's value=")  # fmt: skip
