"""Saving and loading the model safely: skops, with byte-stable files and a trusted-type list.

Loading never unpickles: skops reads a schema and refuses any type not listed below.
``skops.io.dumps`` names array files and shared objects by memory address and stamps the
current time, so the archive is rewritten with ordered names and ids and a fixed date, to make
the same model the same bytes.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path
from typing import Any

# Types a model file may hold beyond those skops trusts by default.
TRUSTED_TYPES: list[str] = [
    "builtins.slice",
    "numpy.dtype",
    "numpy.float64",
    "numpy.int64",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.calibration._IsotonicCalibration",
    "sklearn.calibration._TemperatureScaling",
    "sklearn.tree._tree.Tree",
    "sklearn.utils._bunch.Bunch",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "collections.OrderedDict",
    "stages.training.linear.ReproducibleLogisticRegression",
    "stages.training.text_features.MissingAsEmptyTfidf",
]
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Fitted attributes that record this run rather than the model: ``id()`` of an object at fit
# time (a memory address, new on every run). scikit-learn recomputes them when missing.
RUN_STATE = ("_stop_words_id",)


def to_bytes(model: Any) -> bytes:
    """The skops archive, made deterministic."""
    import skops.io as sio

    forget_run_state(model)
    return _stable_zip(sio.dumps(model))


def forget_run_state(value: Any, seen: set[int] | None = None) -> None:
    """Drop RUN_STATE attributes from every estimator inside ``value`` (pipelines, lists)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, list | tuple):
        children = list(value)
    elif isinstance(value, dict):
        children = list(value.values())
    elif _of_sklearn(type(value)) and hasattr(value, "__dict__"):
        for name in RUN_STATE:
            value.__dict__.pop(name, None)
        children = list(vars(value).values())
    else:
        return
    for child in children:
        forget_run_state(child, seen)


def _of_sklearn(kind: type) -> bool:
    """A scikit-learn class, or one of ours built on one (text_features.MissingAsEmptyTfidf)."""
    return any(base.__module__.startswith("sklearn") for base in kind.__mro__)


def _stable_zip(data: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    schema = source.read("schema.json").decode()
    others = [info.filename for info in source.infolist() if info.filename != "schema.json"]
    order = {name: schema.find(f'"{name}"') for name in others}
    renamed = {
        name: f"{n:06d}{Path(name).suffix}" for n, name in enumerate(sorted(others, key=order.get))
    }
    if renamed:
        pattern = re.compile("|".join(re.escape(f'"{name}"') for name in renamed))
        schema = pattern.sub(lambda match: f'"{renamed[match.group(0)[1:-1]]}"', schema)
    # Object ids (memory addresses) mark shared references: number them in order of appearance.
    ids: dict[str, str] = {}
    schema = re.sub(
        r'"__id__": (\d+)',
        lambda m: f'"__id__": {ids.setdefault(m.group(1), str(len(ids) + 1))}',
        schema,
    )
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w") as archive:
        entries = [("schema.json", schema.encode())]
        entries += sorted((renamed[name], source.read(name)) for name in others)
        for name, content in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return target.getvalue()


def untrusted(data: bytes) -> list[str]:
    """Types in the archive that neither skops nor TRUSTED_TYPES trusts."""
    import skops.io as sio

    return [name for name in sio.get_untrusted_types(data=data) if name not in TRUSTED_TYPES]


def load(path: str | os.PathLike[str]) -> Any:
    """Load a model file (a path or its name, as a notebook gives it); types outside the
    trusted list are refused, never executed."""
    import zipfile

    import skops.io as sio

    from stages.core.errors import DataError

    path = Path(path)
    data = path.read_bytes()
    try:
        unknown = untrusted(data)
        if unknown:
            raise DataError(path, None, f"untrusted types in the model file: {', '.join(unknown)}")
        return sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    except (zipfile.BadZipFile, ValueError, KeyError, EOFError, TypeError) as error:
        reason = (
            f"not a model file skops can read ({type(error).__name__}); rerun `dvc repro train`"
        )
        raise DataError(path, None, reason) from None
