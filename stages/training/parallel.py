"""Where scikit-learn's parallel work runs: this machine's cores, or a Dask cluster.

scikit-learn parallelises through joblib (grid-search candidates and folds, cross-validation
folds, a forest's trees), so choosing joblib's backend moves that work without changing the
estimators. Their own ``n_jobs`` stays unset: it is a param, saved in the model file, and the
model's bytes must not depend on where it was fitted. For the same reason the model that is kept
is fitted in this process, on threads (``modeling.fit``): only the search's and the out-of-fold
predictions' models, which are thrown away, go to other processes or machines.

``distributed`` is imported only when a scheduler is set, so that ``--help`` stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stages.core.errors import DataError
from stages.core.params import default

# Overrides train.parallel.scheduler, so that a cluster's address (a fact about where a run
# happens, not about the model) need not be in params.yaml, where DVC would see it change.
SCHEDULER_ENV = "STAGES_DASK_SCHEDULER"
KEY = "train.parallel"
DEFAULT_TIMEOUT = default("train.parallel.timeout")
# What the workers must share with this process for the scores and out-of-fold predictions they
# compute to be the ones a local run gives (and for what is pickled between them to load at all).
SAME_VERSIONS = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "cloudpickle")


@dataclass(frozen=True)
class Settings:
    """``train.parallel``, checked: local processes, or a scheduler's address."""

    n_jobs: int = 1
    scheduler: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    from_env: bool = False  # the scheduler came from STAGES_DASK_SCHEDULER, not params

    @property
    def origin(self) -> str:
        """Where the scheduler address was set, as an error message names it."""
        key = f"{KEY}.scheduler"
        return f"{key} (from {SCHEDULER_ENV})" if self.from_env else key


def settings(
    options: Mapping[str, Any] | None,
    params_file: str | os.PathLike[str],
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """``train.parallel`` from params (``load_params`` checked its values against the schema),
    with the scheduler from ``STAGES_DASK_SCHEDULER`` if set."""
    options = dict(options or {})
    environ = os.environ if environ is None else environ
    n_jobs = options.get("n_jobs", default("train.parallel.n_jobs"))
    timeout = options.get("timeout", DEFAULT_TIMEOUT)
    scheduler = options.get("scheduler")
    from_env = bool(environ.get(SCHEDULER_ENV, "").strip())
    if from_env:
        scheduler = environ[SCHEDULER_ENV]
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise DataError(
            params_file,
            Settings(from_env=from_env).origin,
            f"{scheduler!r} is not an address such as tcp://10.0.0.5:8786",
        )
    return Settings(n_jobs, scheduler.strip() if scheduler else None, float(timeout), from_env)


@contextmanager
def joblib_backend(
    chosen: Settings, params_file: str | os.PathLike[str] = Path("params.yaml")
) -> Iterator[int]:
    """Run joblib (and so scikit-learn) work inside on the chosen backend; yields the ``n_jobs``
    to pass to scikit-learn's functions (-1 on a cluster: every worker thread).

    Without a scheduler, joblib's default stays (loky processes, ``n_jobs`` of them). With one:
    a Dask client for the duration, closed afterwards; an unreachable scheduler, one without
    workers or workers with other library versions are a DataError, not a traceback.
    """
    if chosen.scheduler is None:
        yield chosen.n_jobs
        return

    import joblib

    client = _connect(chosen, params_file)
    try:
        # The client is passed, not made the process's default: a default client would also
        # serve the workers' own nested calls when they share this process (a LocalCluster).
        with joblib.parallel_config(backend="dask", n_jobs=-1, client=client):
            yield -1
    finally:
        client.close()


def _connect(chosen: Settings, params_file: str | os.PathLike[str]) -> Any:
    """A client of the scheduler with at least one worker that matches this environment."""
    import logging

    from distributed import Client
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend
    from distributed.security import Security

    address, timeout = str(chosen.scheduler), chosen.timeout

    def failure(reason: str) -> DataError:
        return DataError(params_file, chosen.origin, reason)

    try:  # a malformed address is a mistake to report, not a connection to retry until timeout
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme != "inproc":
            parse_host_port(location)
    except ValueError as error:
        reason = str(error).split(" (known")[0]
        raise failure(
            f"{address!r} is not a Dask address ({reason}); use e.g. tcp://10.0.0.5:8786"
        ) from None
    if scheme == "tls" and not Security().get_connection_args("client").get("ssl_context"):
        raise failure(
            f"{address} needs TLS certificates for this client: set distributed.comm.tls in "
            "Dask's configuration (docs/scaling.md)"
        )
    here = f"unset {SCHEDULER_ENV}" if chosen.from_env else f"set {KEY}.scheduler: null"
    # distributed logs each failed attempt to connect; the DataError below says it once.
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, TypeError, ValueError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise failure(
            f"cannot reach the Dask scheduler at {address} ({reason}); start it and its workers "
            f"(docs/scaling.md) or {here} to train on this machine"
        ) from None
    finally:
        quiet.setLevel(level)
    try:
        try:
            client.wait_for_workers(1, timeout=timeout)
        except TimeoutError:
            raise failure(
                f"the Dask scheduler at {address} has no workers after {timeout:g} s; "
                f"start some with `dask worker {address}`, or {here} to train on this machine"
            ) from None
        different = version_mismatches(client.get_versions(packages=list(SAME_VERSIONS)))
        if different:
            raise failure(
                f"the Dask workers run other library versions than this process "
                f"({different[0]}), so their results could differ; run `uv sync --frozen` of "
                "this commit on every worker"
            )
    except BaseException:
        client.close()
        raise
    return client


def version_mismatches(versions: Mapping[str, Any]) -> list[str]:
    """'package X on WORKER, Y here' for each library whose version differs on a worker."""
    here = (versions.get("client") or {}).get("packages") or {}
    found = []
    for worker, info in sorted((versions.get("workers") or {}).items()):
        packages = (info or {}).get("packages") or {}
        for name in ("python", *SAME_VERSIONS):
            mine, theirs = here.get(name), packages.get(name)
            if name == "python":  # '3.11.7.final.0': the minor version decides pickles
                mine, theirs = _minor(mine), _minor(theirs)
            if mine != theirs:
                found.append(f"{name} {theirs} on {worker}, {mine} here")
    return found


def _minor(version: str | None) -> str | None:
    return ".".join(version.split(".")[:2]) if version else version
