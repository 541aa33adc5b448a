"""Which numerical code paths the stages run: fixed before numpy loads, so bytes match anywhere.

A float computation's last bits depend on the code path that runs it: numpy picks SIMD kernels
by CPU (its AVX-512 ``exp``/``log`` round differently from the baseline ones, its sorts break
ties differently), OpenBLAS picks a kernel per CPU (``SkylakeX``, ``Haswell``, ``Zen``...) and
splits work by thread count, OpenMP reductions follow the thread count. Each stage process
therefore fixes, before the first ``import numpy``:

- numpy's dispatch to its baseline (``NPY_ENABLE_CPU_FEATURES=X86_V2``): the same instructions
  on every x86-64 CPU that numpy runs on at all;
- one thread for OpenBLAS and OpenMP (work is parallelised across processes instead, whose
  results do not depend on their number: ``train.parallel``);
- OpenBLAS's kernel to ``Haswell`` (AVX2 + FMA, every x86-64 CPU since 2013-2015), unless the
  environment already sets ``OPENBLAS_CORETYPE``: some machines must, because older OpenBLAS
  builds crash or compute wrong results on their CPU, so that choice is kept exactly as set
  (with ``OPENBLAS_L2_SIZE``), and ``check-repro`` then says the model may differ in its last
  bits and compares it within a tolerance.

``STAGES_NUMERICS=native`` turns all of this off (for benchmarks): bytes then follow the CPU.
docs/reproducibility.md is the contract built on this.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

REFERENCE_CORETYPE = "Haswell"
NUMPY_BASELINE = "X86_V2"  # numpy 2.4's x86-64 baseline; a test checks it against numpy
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
SWITCH = "STAGES_NUMERICS"
# Set in the stages' own environment once pinned, so that their children (loky workers, the
# stages `dvc repro` runs for check-repro) tell a pinned core type from the environment's.
PINNED_MARK = "STAGES_NUMERICS_PINNED"


@dataclass(frozen=True)
class Profile:
    """The numerical code paths in force, and whether they are the reference ones."""

    coretype: str  # OpenBLAS kernel asked for, or "auto" (OpenBLAS picks by CPU)
    reference: bool
    reasons: list[str] = field(default_factory=list)  # why not the reference, one per cause

    def summary(self) -> str:
        if self.reference:
            return (
                f"reference numerics (x86-64, numpy {NUMPY_BASELINE} kernels, OpenBLAS "
                f"{self.coretype}, 1 thread)"
            )
        return "not the reference numerics: " + "; ".join(self.reasons)


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def is_x86_64() -> bool:
    return platform.machine().lower() in ("x86_64", "amd64")


def pin(environ: MutableMapping[str, str] | None = None, flags: set[str] | None = None) -> Profile:
    """Fix the kernels and thread counts in ``environ`` (the process's by default); say which.

    Must run before numpy is imported to take effect, which the stages' entry point ensures.
    """
    environ = os.environ if environ is None else environ
    reasons: list[str] = []
    if environ.get(SWITCH, "").strip().lower() == "native":
        coretype = environ.get("OPENBLAS_CORETYPE", "auto")
        return Profile(coretype, False, [f"{SWITCH}=native"])
    for name in THREAD_VARIABLES:
        environ[name] = "1"
    x86 = is_x86_64()
    if x86:
        environ.pop("NPY_DISABLE_CPU_FEATURES", None)  # numpy refuses both at once
        environ["NPY_ENABLE_CPU_FEATURES"] = NUMPY_BASELINE
    else:
        reasons.append(f"{platform.machine()} is not x86-64 (other kernels, other bits)")
    if sys.platform != "linux":
        reasons.append(f"{sys.platform} is not Linux (another maths library)")

    pinned_before = environ.get(PINNED_MARK) == "1"
    from_environment = "OPENBLAS_CORETYPE" in environ and not pinned_before
    if from_environment:
        coretype = environ["OPENBLAS_CORETYPE"]
        if coretype.lower() != REFERENCE_CORETYPE.lower():
            reasons.append(
                f"OPENBLAS_CORETYPE={coretype} is set by the environment and kept as set "
                f"(the reference kernel is {REFERENCE_CORETYPE})"
            )
    elif x86 and {"avx2", "fma"} <= (cpu_flags() if flags is None else flags):
        coretype = environ["OPENBLAS_CORETYPE"] = REFERENCE_CORETYPE
        environ[PINNED_MARK] = "1"
    else:
        coretype = "auto"
        if x86:
            reasons.append(f"this CPU lacks AVX2/FMA, which the {REFERENCE_CORETYPE} kernel needs")
    return Profile(coretype, not reasons, reasons)
