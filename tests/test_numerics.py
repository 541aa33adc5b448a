"""Same bytes on other machines: the stages' numerics pinned, and other CPUs played on this one.

Another CPU differs from this one in three ways that change floating-point bits: the SIMD code
numpy dispatches to, the OpenBLAS kernel, and the thread counts. Each is played here through
the environment (NPY_DISABLE_CPU_FEATURES, OPENBLAS_CORETYPE, OPENBLAS/OMP_NUM_THREADS), with
every stage that does floating-point work run in its own process, numeric and text features,
and every output compared byte for byte. An Intel Xeon with NPY_DISABLE_CPU_FEATURES set to its
AVX-512 features and OPENBLAS_CORETYPE=Haswell has been measured to give exactly an AMD EPYC's
bytes, so these runs stand for those machines.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from stages.core import numerics
from tests.helpers import sh

pytestmark = pytest.mark.e2e

FORCED_ELSEWHERE = "OPENBLAS_CORETYPE" in os.environ
CAN_RUN_KERNELS = numerics.is_x86_64() and {"avx2", "fma"} <= numerics.cpu_flags()
# Other machines, each differing from this one on every axis at once: the BLAS kernel (one that
# every x86-64 CPU with AVX2 can run: a forced kernel the CPU lacks would crash), the thread
# counts, and numpy's SIMD dispatch narrowed as on a CPU without AVX-512, or without AVX2.
MACHINES = {
    "haswell-1-thread": {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_NUM_THREADS": "1",
                         "OMP_NUM_THREADS": "1"},
    "sandybridge-2-threads-no-avx512": {"OPENBLAS_CORETYPE": "Sandybridge", "OPENBLAS_NUM_THREADS": "2",
                                        "OMP_NUM_THREADS": "2",
                                        "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"},
    "prescott-4-threads-no-avx2": {"OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_NUM_THREADS": "4",
                                   "OMP_NUM_THREADS": "4",
                                   "NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"},
}  # fmt: skip
BASE = "haswell-1-thread"  # the others are compared with it


def test_pin_fixes_numpy_kernels_and_threads_and_keeps_a_core_type_the_environment_set():
    env = {"OMP_NUM_THREADS": "8", "NPY_DISABLE_CPU_FEATURES": "X86_V4"}
    profile = numerics.pin(env, flags={"avx2", "fma"})
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "1"
    assert "NPY_DISABLE_CPU_FEATURES" not in env  # numpy refuses it beside the ENABLE list
    if numerics.is_x86_64():
        assert env["NPY_ENABLE_CPU_FEATURES"] == numerics.NUMPY_BASELINE
        assert env["OPENBLAS_CORETYPE"] == numerics.REFERENCE_CORETYPE
        assert profile.reference == (sys.platform == "linux")
    forced = {"OPENBLAS_CORETYPE": "Sandybridge", "OPENBLAS_L2_SIZE": "262144"}
    profile = numerics.pin(forced, flags={"avx2", "fma"})
    assert forced["OPENBLAS_CORETYPE"] == "Sandybridge"  # kept exactly as set
    assert forced["OPENBLAS_L2_SIZE"] == "262144"
    assert not profile.reference
    assert "OPENBLAS_CORETYPE=Sandybridge is set by the environment" in profile.summary()


def test_pin_leaves_the_kernel_to_openblas_on_a_cpu_without_avx2():
    env: dict[str, str] = {}
    profile = numerics.pin(env, flags={"sse4_2"})
    assert "OPENBLAS_CORETYPE" not in env
    if numerics.is_x86_64():
        assert "lacks AVX2/FMA" in profile.summary()


def test_native_switch_pins_nothing():
    env = {"STAGES_NUMERICS": "native"}
    assert not numerics.pin(env).reference
    assert env == {"STAGES_NUMERICS": "native"}


@pytest.mark.skipif(not numerics.is_x86_64(), reason="numpy's x86-64 feature names")
def test_the_pinned_numpy_runs_only_its_baseline():
    script = (
        "from stages.core import numerics; numerics.pin(); "
        "from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__, "
        "__cpu_features__ as on; "
        "print(__cpu_baseline__, [f for f in __cpu_dispatch__ if on[f]])"
    )
    shown = sh(Path.cwd(), sys.executable, "-c", script,
               env={"NPY_DISABLE_CPU_FEATURES": "X86_V4"}).stdout.strip()  # fmt: skip
    assert shown == f"['{numerics.NUMPY_BASELINE}'] []"


def _text_items(validated: Path, into: Path) -> None:
    """The demo's validated items with a text column made from each digit's pixels."""
    for part in sorted(validated.rglob("*.parquet")):
        target = into / part.relative_to(validated)
        target.parent.mkdir(parents=True, exist_ok=True)
        table = pd.read_parquet(part)
        if "item_id" in table.columns and "px_0_0" in table.columns:
            words = (table.filter(like="px_").to_numpy() > 8).astype(int)
            table["text"] = [" ".join(f"p{k}" for k in row.nonzero()[0][:40]) for row in words]
        table.to_parquet(target, index=False)


@pytest.fixture(scope="module")
def inputs(reproduced: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Validated tables and params for numeric and for text features."""
    root = tmp_path_factory.mktemp("numerics")
    params = yaml.safe_load((reproduced / "params.yaml").read_text())
    (root / "numeric.yaml").write_text(yaml.safe_dump(params))
    params["train"]["features"] = {**params["train"]["features"], "numeric": [], "text": ["text"]}
    (root / "text.yaml").write_text(yaml.safe_dump(params))
    _text_items(reproduced / "data" / "validated", root / "validated-text")
    return {"project": reproduced, "root": root}


def _run_stages(inputs: dict[str, Path], name: str, changes: dict[str, str]) -> dict[str, str]:
    """label-merge, then train and evaluate with numeric and with text features; md5 of each
    output file."""
    project, out = inputs["project"], inputs["root"] / name

    def stage(*args: str | Path) -> None:
        sh(project, sys.executable, "-m", "stages", *map(str, args), env=changes)

    labels = out / "labels.parquet"
    # Every output path given: the shared reproduced project must stay as committed.
    stage("label-merge", "--labels-file", labels, "--reports", out / "merge", "--relabel",
          out / "merge" / "tasks.json", "--metrics", out / "merge" / "headline.json")  # fmt: skip
    for features, validated in (("numeric", "data/validated"),
                                ("text", inputs["root"] / "validated-text")):  # fmt: skip
        params, models = inputs["root"] / f"{features}.yaml", out / features
        stage("train", "--validated", validated, "--labels-file", labels, "--out", models,
              "--issues", models / "issues.csv", "--issue-tasks", models / "relabel.json",
              "--metrics", models / "headline.json", "--params", params)  # fmt: skip
        stage("evaluate", "--validated", validated, "--labels-file", labels, "--model", models,
              "--reports", models / "reports", "--metrics", models / "reports" / "headline.json",
              "--params", params)  # fmt: skip
    return {
        path.relative_to(out).as_posix(): hashlib.md5(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def _machine(name: str) -> dict[str, str]:
    changes = dict(MACHINES[name])
    if FORCED_ELSEWHERE or not CAN_RUN_KERNELS:  # see test_the_blas_kernel_axis_is_played_here
        changes.pop("OPENBLAS_CORETYPE")
    return changes


@pytest.fixture(scope="module")
def base_run(inputs: dict[str, Path]) -> dict[str, str]:
    digests = _run_stages(inputs, BASE, _machine(BASE))
    assert "numeric/model.skops" in digests and "text/model.skops" in digests
    assert "text/reports/metrics.json" in digests
    return digests


def _differences(base: dict[str, str], other: dict[str, str]) -> list[str]:
    return sorted(name for name in set(base) | set(other) if base.get(name) != other.get(name))


@pytest.mark.parametrize("machine", sorted(set(MACHINES) - {BASE}))
def test_every_output_is_the_same_bytes_on_another_machine(inputs, base_run, machine):
    assert _differences(base_run, _run_stages(inputs, machine, _machine(machine))) == []


@pytest.mark.skipif(not numerics.is_x86_64(), reason="x86-64 kernels")
def test_the_blas_kernel_axis_is_played_here():
    """Says, in the test report, when the kernel axis above could not be played."""
    if FORCED_ELSEWHERE:
        pytest.skip(
            f"this environment sets OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} (its "
            "OpenBLAS needs it): kept as set, so the machines above vary threads and numpy only"
        )
    if not CAN_RUN_KERNELS:
        pytest.skip("this CPU lacks AVX2/FMA: forcing the kernels played would crash OpenBLAS")
    # Here the axis is played: every machine forces its own kernel, and they differ.
    kernels = [_machine(name).get("OPENBLAS_CORETYPE") for name in sorted(MACHINES)]
    assert None not in kernels and len(set(kernels)) == len(kernels), kernels
