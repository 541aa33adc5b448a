"""Experiment queue workers: how much faster a queued grid runs with `dvc queue start -j N`.

Copies the template into a temporary Git repository (the end-to-end tests' helpers), writes the
demo data, `dvc add data/raw`, `dvc repro` and commits: the baseline. Then, for each worker count,
in a fresh copy of that repository: queues the same grid of experiments
(`dvc exp run --queue -S train.model=... -S ...`, see GRID), starts the workers
with `dvc queue start -j N` and times until the last experiment is done. Each experiment reruns
train and evaluate in its own temporary copy of the repository, so the time includes that copy.
The metrics of every experiment must be identical whatever the worker count, or the script fails.
Each worker count runs twice, interleaved (1 2 4 4 2 1), and the faster run counts.
`python bench/queue_speed.py --jobs 1 2 4 --repeats 2` (the defaults): about 11 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import markdown_table  # also puts the project root on sys.path, for `tests`

from tests.helpers import copy_template, sh

# A 2 x 2 x 2 grid of 8 experiments, each rerunning train and evaluate (random forest is the
# slower model). None equals the committed params: that one would be restored from the run cache
# in about 3 s instead of run.
GRID = {
    "train.model": ["logistic_regression", "random_forest"],
    "train.label_confidence.mode": ["weight", "drop"],
    "train.label_issues.folds": ["4", "5"],
}
TIMEOUT = 1800.0  # seconds for one queue to drain
EXP_REF_SKIP = ("refs/exps/celery/", "refs/exps/exec/", "refs/exps/apply/", "refs/exps/temp/")


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, all cores (Linux)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle, total


def baseline(root: Path) -> Path:
    """The template with demo data cached, the pipeline run and everything committed."""
    project = copy_template(root / "baseline")
    sh(project, sys.executable, "-m", "stages", "demo-data")
    sh(project, "dvc", "add", "-q", "data/raw")  # queued experiments check it out of the cache
    sh(project, "dvc", "repro", "-q")
    sh(project, "git", "add", "-A")
    sh(project, "git", "commit", "-q", "--allow-empty", "-m", "baseline")
    return project


def finished_experiments(project: Path) -> int:
    """Experiments whose result is committed (a ref under refs/exps): cheap to poll."""
    refs = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/exps/"],
        cwd=project, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return sum(not ref.startswith(EXP_REF_SKIP) and ref.count("/") >= 4 for ref in refs)


def queue_tasks(project: Path) -> dict[str, tuple[str, str]]:
    """`dvc queue status` as {task id: (name, status)}."""
    tasks = {}
    for line in sh(project, "dvc", "queue", "status", check=False).stdout.splitlines():
        words = line.split()
        if len(words) >= 3 and words[-1] in ("Queued", "Running", "Success", "Failed"):
            tasks[words[0]] = (words[1], words[-1])
    return tasks


def run_queue(project: Path, jobs: int, expected: int) -> float:
    """Start `jobs` workers, wait until the queue has drained; the wall seconds it took."""
    start = time.perf_counter()
    sh(project, "dvc", "queue", "start", "-j", str(jobs))
    done_at = None
    last_status = 0.0
    while True:
        now = time.perf_counter()
        if now - start > TIMEOUT:
            raise SystemExit(f"-j {jobs}: queue still busy after {TIMEOUT:.0f} s")
        if finished_experiments(project) >= expected:
            done_at = now
            break
        # `dvc queue status` costs a DVC start-up (about a CPU second): ask it rarely, only to
        # notice a failed task, which leaves no ref behind.
        if now - last_status > 10:
            last_status = now
            tasks = queue_tasks(project)
            if tasks and not any(state in ("Queued", "Running") for _, state in tasks.values()):
                done_at = now
                break
        time.sleep(0.25)
    tasks = queue_tasks(project)
    failed = [task for task, (_, state) in tasks.items() if state == "Failed"]
    if failed or finished_experiments(project) != expected:
        logs = "\n".join(
            sh(project, "dvc", "queue", "logs", task, check=False).stdout[-3000:] for task in failed
        )
        raise SystemExit(f"-j {jobs}: {len(failed)} failed experiment(s)\n{tasks}\n{logs}")
    return done_at - start


def stop_workers(project: Path) -> None:
    """Stop the queue's workers and wait until their processes are gone.

    They stop on their own 10 s after the queue is empty; this is for a timeout or a failure.
    """
    running = [task for task, (_, state) in queue_tasks(project).items() if state == "Running"]
    if running:
        sh(project, "dvc", "queue", "kill", "--force", *running, check=False)
    sh(project, "dvc", "queue", "stop", check=False)
    pids = []
    for info in (project / ".dvc" / "tmp" / "exps" / "celery").glob("dvc-exp-worker-*.json"):
        try:
            pids.append(int(json.loads(info.read_text())["pid"]))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    deadline = time.monotonic() + 60
    while (alive := [pid for pid in pids if process_alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in alive:
        print(f"worker process {pid} still running after dvc queue stop: terminating it",
              file=sys.stderr)  # fmt: skip
        os.kill(pid, signal.SIGTERM)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def flatten(value: object, prefix: str = "") -> dict[str, object]:
    if isinstance(value, dict):
        flat = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def results(project: Path) -> dict[tuple[str, ...], dict[str, object]]:
    """Every experiment's metrics (all metric files), keyed by its grid params."""
    shown = json.loads(sh(project, "dvc", "exp", "show", "--json").stdout)
    found = {}
    for entry in shown:
        for experiment in entry.get("experiments") or []:
            for rev in experiment.get("revs", []):
                data = rev.get("data") or {}
                if not rev.get("name") or data.get("status") not in (None, "Success"):
                    continue
                params = flatten(data["params"]["params.yaml"]["data"])
                key = tuple(str(params[name]) for name in GRID)
                metrics = {
                    file: flatten(content.get("data", {}))
                    for file, content in (data.get("metrics") or {}).items()
                }
                if key in found:
                    raise SystemExit(f"two experiments with params {key}")
                found[key] = metrics
    return found


def measure(base: Path, project: Path, jobs: int) -> tuple[float, float, float, dict]:
    """In a fresh copy of the baseline: queue the grid, run it with `jobs` workers."""
    shutil.copytree(base, project, symlinks=True)
    combos = list(itertools.product(*GRID.values()))
    queued_start = time.perf_counter()
    sets = [arg for name, values in GRID.items() for arg in ("-S", f"{name}={','.join(values)}")]
    sh(project, "dvc", "exp", "run", "--queue", *sets)
    queue_seconds = time.perf_counter() - queued_start
    busy_before, total_before = cpu_ticks()
    try:
        seconds = run_queue(project, jobs, len(combos))
    finally:
        busy_after, total_after = cpu_ticks()
        stop_workers(project)
    busy = 100 * (busy_after - busy_before) / max(total_after - total_before, 1)
    found = results(project)
    shutil.rmtree(project, ignore_errors=True)
    if set(found) != set(combos):
        raise SystemExit(f"-j {jobs}: experiments {sorted(found)}, expected {combos}")
    return seconds, queue_seconds, busy, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument(
        "--repeats", type=int, default=2,
        help="runs per worker count, interleaved (1 2 4 4 2 1 ...); the best one counts",
    )  # fmt: skip
    args = parser.parse_args()
    jobs_list = sorted(set(args.jobs) | {1})
    order = [
        jobs
        for repeat in range(args.repeats)
        for jobs in (jobs_list if repeat % 2 == 0 else jobs_list[::-1])
    ]
    total_start = time.perf_counter()
    times: dict[int, list[tuple[float, float]]] = {jobs: [] for jobs in jobs_list}
    reference = None
    with tempfile.TemporaryDirectory(prefix="queue-speed-", ignore_cleanup_errors=True) as name:
        root = Path(name)
        start = time.perf_counter()
        base = baseline(root)
        print(f"baseline (demo data, dvc repro): {time.perf_counter() - start:.1f} s",
              file=sys.stderr)  # fmt: skip
        for run, jobs in enumerate(order):
            seconds, queue_seconds, busy, found = measure(base, root / f"run{run}", jobs)
            print(f"-j {jobs}: {seconds:.1f} s (queueing {queue_seconds:.1f} s), machine CPU "
                  f"busy {busy:.0f}%", file=sys.stderr)  # fmt: skip
            if reference is None:
                reference = found
            elif found != reference:
                differ = [key for key in reference if found.get(key) != reference[key]]
                raise SystemExit(f"-j {jobs}: metrics differ from the first run for {differ}")
            times[jobs].append((seconds, busy))
    count = len(reference)
    best = {jobs: min(runs) for jobs, runs in times.items()}  # (seconds, busy) of the fastest
    rows = [
        [jobs, count, f"{best[jobs][0]:.1f}", " / ".join(f"{t:.1f}" for t, _ in times[jobs]),
         f"{best[1][0] / best[jobs][0]:.2f}x", f"{count / best[jobs][0] * 60:.1f}",
         f"{best[jobs][1]:.0f}%"]
        for jobs in jobs_list
    ]  # fmt: skip
    header = ["workers (-j)", "experiments", "wall s (best)", "all runs s", "speed-up vs -j 1",
              "experiments/min", "machine CPU busy (best run)"]  # fmt: skip
    print(f"Machine: {machine()}\n")
    print(markdown_table(header, rows))
    grid = " x ".join(f"{name}={','.join(values)}" for name, values in GRID.items())
    print(f"\ngrid: {grid}; metrics identical per experiment in every run")
    print(f"total script time: {time.perf_counter() - total_start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
