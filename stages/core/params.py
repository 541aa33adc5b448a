"""Every param the stages read: its default, its type, its range or choices, defined once.

`load_params` checks params.yaml against this schema and fills in what is left out, so the
code never carries a default of its own. An unknown key (a typo such as `train.modle`), a
wrong type or a value out of range stops the stage with one line naming the file and the key.
Library functions that take a section (``complete``) fill it the same way.
"""

from __future__ import annotations

from typing import Any

from stages.core.errors import DataError
from stages.core.label_set import check_label_set
from stages.core.param_fields import (
    Field,
    choice,
    did_you_mean,
    flag,
    integer,
    is_number,
    mapping,
    names,
    number,
    text,
)

METHODS = ("auto", "ensemble", "dawid_skene", "mace", "one_coin", "majority_vote")
TIE_RULES = ("prior", "random", "abstain")
FORMATS = ("labelstudio", "labelstudio-min", "labelstudio-csv", "prodigy", "sagemaker", "long")
# scikit-learn's scorers that rank classifiers (get_scorer_names() holds regression and
# clustering ones too), for the grid search's cross-validation.
TWO_CLASS_SCORERS = ("roc_auc", "average_precision", "f1", "precision", "recall")
SCORERS = (
    "f1_macro", "f1_micro", "f1_weighted", "accuracy", "balanced_accuracy", "matthews_corrcoef",
    "precision_macro", "precision_micro", "precision_weighted", "recall_macro", "recall_micro",
    "recall_weighted", "jaccard_macro", "jaccard_micro", "jaccard_weighted", "neg_log_loss",
    "roc_auc_ovr", "roc_auc_ovo", "roc_auc_ovr_weighted", "roc_auc_ovo_weighted",
    *TWO_CLASS_SCORERS,
)  # fmt: skip
MAX_JOBS = 1024  # train.parallel.n_jobs: past any machine's cores, a typo's thousand processes
MODELS = ("logistic_regression", "linear_svm", "random_forest", "hist_gradient_boosting")


def _labels(value: Any) -> bool:
    if value is None:
        return True
    if not isinstance(value, list) or len(value) < 2:  # one class: nothing to merge or learn
        return False
    scalars = all(isinstance(v, str | int) and not isinstance(v, bool) for v in value)
    written = [str(v).strip() for v in value]
    return scalars and "" not in written and len(set(written)) == len(written)


def _grid(value: Any) -> bool:
    scalar = str | int | float | bool | None
    return isinstance(value, dict) and all(
        isinstance(values, list) and values and all(isinstance(v, scalar) for v in values)
        for values in value.values()
    )


def _min_df(value: Any) -> bool:
    return (isinstance(value, int) and value >= 1) or (is_number(value) and 0 < value <= 1)


SCHEMA: dict[str, Any] = {
    "seed": integer(0, low=0, high=2**32 - 1),  # numpy's and scikit-learn's range
    "data": {
        "labels": Field(
            None,
            _labels,
            "a list of two or more distinct, non-empty labels",
            {
                "type": ["array", "null"],
                "items": {"type": ["string", "integer"]},
                "minItems": 2,
                "uniqueItems": True,
            },
        ),
        "aliases": mapping({}),
        "annotations": {
            "format": choice("auto", ("auto", *FORMATS)),
            "item_key": text("item_id"),
            "from_name": text(None, nullable=True),
            "reject_label": text(None, nullable=True),
            "tool_id_fallback": flag(False),
        },
    },
    "prepare": {
        "test_size": number(0.2, 0.0, 1.0, open_low=True, open_high=True),
        "split_salt": text("v1"),
    },
    "validate": {"suite": text("expectations/default.yaml")},
    "label_merge": {
        "method": choice("auto", METHODS),
        "tie_rule": choice("prior", TIE_RULES),
        "max_iter": integer(100, low=1),
        "tol": number(1e-6, 0.0, open_low=True),
        "prior_strength": number(0.0, 0.0),
        "use_gold": flag(True),
        "keep_unanimous": flag(False),
        "min_overlap": integer(20, low=1),
        "spammer_threshold": number(0.25, 0.0, 1.0),
        "spammer_min_judgments": integer(20, low=0),
        "relabel": {
            "min_confidence": number(0.8, 0.0, 1.0),
            "min_annotations": integer(2, low=0),
            "max_tasks": integer(None, low=0, nullable=True),
            "config": text(None, nullable=True),
            "from_name": text(None, nullable=True),
            "to_name": text(None, nullable=True),
        },
    },
    "train": {
        "model": choice("logistic_regression", MODELS),
        "features": {
            "numeric": Field(
                "auto",
                lambda v: v == "auto" or names([]).accepts(v),
                "auto or a list of distinct column names",
                {"anyOf": [{"const": "auto"}, names([]).json]},
            ),
            "categorical": names([]),
            "text": names([]),
            "tfidf": {
                "ngram_range": Field(
                    [1, 2],
                    lambda v: (
                        isinstance(v, list)
                        and len(v) == 2
                        and all(isinstance(n, int) and n >= 1 for n in v)
                        and v[0] <= v[1]
                    ),
                    "two integers [low, high], 1 <= low <= high",
                    {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 1},
                        "minItems": 2,
                        "maxItems": 2,
                    },
                ),
                "max_features": integer(20000, low=1, nullable=True),
                "min_df": Field(
                    1,
                    _min_df,
                    "an integer at least 1 or a share in (0, 1]",
                    {
                        "anyOf": [
                            {"type": "integer", "minimum": 1},
                            {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                        ]
                    },
                ),
                "sublinear_tf": flag(True),
            },
            "impute": choice("mean", ("mean", "median")),
        },
        "label_confidence": {
            "mode": choice("none", ("none", "weight", "drop")),
            "min_confidence": number(0.6, 0.0, 1.0),
        },
        "logistic_regression": {"C": number(1.0, 0.0, open_low=True), "max_iter": integer(2000, 1)},
        "linear_svm": {
            "C": number(0.1, 0.0, open_low=True),
            "max_iter": integer(5000, 1),
            # probabilities from the SVM's scores, fitted on held-out folds (training/modeling.py)
            "calibration": choice("temperature", ("temperature", "sigmoid", "isotonic")),
            "calibration_folds": integer(3, low=2),
        },
        # Work bounds against a typo (an extra zero or two): past them a fit runs for hours.
        "random_forest": {
            "n_estimators": integer(200, low=1, high=10_000),
            "max_depth": integer(None, low=1, nullable=True),
            "min_samples_leaf": integer(1, low=1),
        },
        "hist_gradient_boosting": {
            "learning_rate": number(0.1, 0.0, open_low=True),
            "max_iter": integer(200, low=1, high=10_000),
            "max_leaf_nodes": integer(31, low=2),
        },
        "grid": Field(
            {},
            _grid,
            "a mapping of hyperparameter names to non-empty lists of values",
            {"type": "object", "additionalProperties": {"type": "array", "minItems": 1}},
        ),
        "cv_folds": integer(3, low=2),
        "scoring": choice("f1_macro", SCORERS),
        "label_issues": {
            "enabled": flag(True),
            "folds": integer(5, low=2),
            "max_tasks": integer(50, low=0),
        },
        "parallel": {
            "n_jobs": Field(
                1,
                lambda v: is_number(v) and isinstance(v, int) and (1 <= v <= MAX_JOBS or v == -1),
                f"an integer from 1 to {MAX_JOBS}, or -1 for every core",
                {"anyOf": [{"type": "integer", "minimum": 1, "maximum": MAX_JOBS}, {"const": -1}]},
            ),
            "scheduler": text(None, nullable=True),
            "timeout": number(10.0, 0.0, open_low=True),
        },
    },
    "evaluate": {"top_confusions": integer(5, low=0)},
    "reproducibility": {
        "metric_tolerance": number(1e-9, 0.0),
        "value_tolerance": number(1e-6, 0.0),
    },
}


# Sections that also pass other keys through to scikit-learn (its own errors name them).
OPEN = {f"train.{model}" for model in MODELS}


def default(name: str) -> Any:
    """The default of one param, by dotted name."""
    return _at(name).default


def _at(name: str) -> Any:
    """The schema's field or section at a dotted name."""
    found: Any = SCHEMA
    for part in name.split("."):
        found = found[part]
    return found


# Keys that were params once, and where their content lives now.
# An empty value there is dropped: it asked for nothing.
MOVED = {
    "data.annotations.annotator_aliases": "moved to data/raw/annotator_aliases.csv",
}


def typed(name: str, value: Any) -> Any:
    """``value`` in the type of the field at dotted ``name`` (a grid's 1 becomes 1.0 for a
    number), or as given where ``name`` is no field of the schema (an open section's own key)."""
    try:
        spec = _at(name)
    except KeyError:
        return value
    return spec.convert(value) if isinstance(spec, Field) and spec.accepts(value) else value


def complete(name: str, given: dict[str, Any] | None, source: object = "params") -> dict[str, Any]:
    """The section at dotted ``name`` with every key checked and every default filled."""
    return _walk(_at(name), {} if given is None else given, name, source)


def validated(raw: dict[str, Any], source: object) -> dict[str, Any]:
    """The whole params file, checked, with every default filled."""
    params = _walk(SCHEMA, raw, "", source)
    _check_grid(params["train"], source)
    if params["data"]["labels"] is not None:  # spellings and aliases, as prepare applies them
        check_label_set(params["data"]["labels"], params["data"]["aliases"], source)
    return params


def _check_grid(train: dict[str, Any], source: object) -> None:
    """A grid's values for a hyperparameter params.yaml has meet that hyperparameter's rule."""
    fields = SCHEMA["train"][train["model"]]
    for key, values in train["grid"].items():
        spec = fields.get(key)
        refused = [v for v in values if isinstance(spec, Field) and not spec.accepts(v)]
        if refused:
            raise DataError(
                source,
                f"train.grid.{key}",
                f"each value must be {spec.expected}, got {_show(refused[0])}",
            )


def _walk(schema: dict[str, Any], given: Any, prefix: str, source: object) -> dict[str, Any]:
    if not isinstance(given, dict):
        raise DataError(source, prefix, f"must be a mapping, got {_show(given)}")
    moved = {key: f"{prefix}.{key}" if prefix else key for key in given if key not in schema}
    moved = {key: where for key, where in moved.items() if where in MOVED}
    for key, where in moved.items():
        if given[key]:
            raise DataError(source, where, MOVED[where])
    unknown = sorted(str(key) for key in given if key not in schema and key not in moved)
    if unknown and prefix not in OPEN:
        where = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        hint = f"{found} " if (found := did_you_mean(unknown[0], list(schema))) else ""
        known = ", ".join(schema)
        raise DataError(source, where, f"unknown key; {hint}{prefix or 'the file'} takes: {known}")
    result: dict[str, Any] = {key: given[key] for key in unknown}  # OPEN sections keep them
    for key, spec in schema.items():
        where = f"{prefix}.{key}" if prefix else key
        if isinstance(spec, dict):
            section = given.get(key)  # empty (null): every default; false or [] is refused
            result[key] = _walk(spec, {} if section is None else section, where, source)
            continue
        value = given.get(key, spec.default)
        if key in given and not spec.accepts(value):
            options = spec.json.get("enum", []) if isinstance(value, str) else []
            hint = f" ({found})" if (found := did_you_mean(value, options)) else ""
            raise DataError(source, where, f"must be {spec.expected}, got {_show(value)}{hint}")
        result[key] = spec.convert(value)
    return result


def json_schema() -> dict[str, Any]:
    """The schema as JSON Schema (draft 2020-12), so that editors complete params.yaml."""
    document = _json_section(SCHEMA, "")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "params.yaml of the DVC labeling template (stages/core/params.py)",
        **document,
    }


def _json_section(schema: dict[str, Any], prefix: str) -> dict[str, Any]:
    properties = {}
    for key, spec in schema.items():
        where = f"{prefix}.{key}" if prefix else key
        if isinstance(spec, dict):
            properties[key] = _json_section(spec, where)
        else:
            properties[key] = {**spec.json, "default": spec.default, "description": spec.expected}
    kind = ["object", "null"] if prefix else "object"  # an empty section reads as null
    return {"type": kind, "properties": properties, "additionalProperties": prefix in OPEN}


def _show(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."
