"""What params.yaml leaves to scikit-learn, checked before any work (and by `params --check`):
a model section's extra keys and the grid's keys must be hyperparameters of the model, and a
grid scored by a two-class scorer needs a two-label set. Each mistake names its key, where
scikit-learn's own error, raised mid-fit, could not say which key it meant."""

from __future__ import annotations

from typing import Any

from stages.core.errors import DataError
from stages.core.params import MODELS, SCHEMA, TWO_CLASS_SCORERS
from stages.training.modeling import ParamsMismatch, hyperparameters, not_taken


def check_model_params(params: dict[str, Any], source: object = "params.yaml") -> None:
    """A DataError naming ``source`` and the first key scikit-learn would refuse (see the
    module); train and `params --check` call it alike."""
    try:
        _check(params)
    except ParamsMismatch as error:
        raise DataError(source, error.key, error.reason) from None


def _check(params: dict[str, Any]) -> None:
    train = params["train"]
    for model in MODELS:  # every model's section: a typo waits there for the day it is chosen
        extra = sorted(set(train[model]) - set(SCHEMA["train"][model]))
        takes = hyperparameters(model)[1] if extra else set()
        for key in extra:
            if key not in takes:
                raise ParamsMismatch(f"train.{model}.{key}", not_taken(model, key, takes))
    if not train["grid"]:
        return
    takes = hyperparameters(train["model"])[0]
    for key in train["grid"]:
        if key not in takes:
            raise ParamsMismatch(f"train.grid.{key}", not_taken(train["model"], key, takes))
    labels = params["data"]["labels"]
    if train["scoring"] in TWO_CLASS_SCORERS and labels is not None and len(labels) > 2:
        reason = (
            f"{train['scoring']} scores two classes and data.labels has {len(labels)}: use one "
            "for many, such as f1_macro, accuracy or balanced_accuracy (params.schema.json)"
        )
        raise ParamsMismatch("train.scoring", reason)


def positive_class(labels: list[str]) -> str | None:
    """The class a two-class ``train.scoring`` (f1, precision, recall, average_precision)
    scores: the second of two in ``data.labels``, as a team writes [negative, positive]."""
    return str(labels[1]) if len(labels) == 2 else None
