"""The pull-request report: this commit's metrics and params beside the base branch's.

Metrics files live in Git (``cache: false`` in dvc.yaml), so ``dvc metrics diff`` reads the
base branch's values from its commit, on a runner with no DVC remote credentials.
Usage: python .ci/report.py BASE > report.md (BASE: origin/main, a branch or a commit).
The first line is a marker that the workflow uses to update its one comment per pull request.
"""

from __future__ import annotations

import subprocess
import sys

MARKER = "<!-- dvc-reproduce-report -->"


def dvc_table(*args: str) -> str:
    result = subprocess.run(
        ["dvc", *args, "--md"], capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise SystemExit(f"error: dvc {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def report(base: str) -> str:
    metrics = dvc_table("metrics", "diff", base, "--all")
    params = dvc_table("params", "diff", base)
    return "\n".join(
        [
            MARKER,
            f"## Metrics: this commit (HEAD) vs `{base}`",
            "",
            metrics or "No metrics.",
            "",
            f"## Params changed since `{base}`",
            "",
            params or "No params changed.",
            "",
        ]
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python .ci/report.py BASE")
    sys.stdout.write(report(sys.argv[1]))
