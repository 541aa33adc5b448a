"""Open a page in headless Chromium with no network, as a person offline would.

Chromium's DNS is pointed nowhere, so nothing leaves the machine; its network log still
records every request a page tried, which is how a test sees a page that needs the network.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None
)
_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--virtual-time-budget=8000",
    "--enable-logging=stderr", "--v=0",
)  # fmt: skip


@dataclass
class OpenedPage:
    dom: str  # the document after its scripts ran
    remote_requests: list[str]  # what the page asked of the network
    problems: list[str]  # console errors and files that failed to load


def open_offline(page: Path, scratch: Path) -> OpenedPage:
    assert CHROMIUM, "no Chromium"
    scratch.mkdir(parents=True, exist_ok=True)
    net_log = scratch / "net-log.json"
    result = subprocess.run(
        [CHROMIUM, *_FLAGS, f"--user-data-dir={scratch / 'profile'}", f"--log-net-log={net_log}",
         "--dump-dom", page.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    problems = [
        line
        for line in result.stderr.splitlines()
        if "CONSOLE" in line and ("Error" in line or "Uncaught" in line)
    ]
    problems += [
        f"missing: {name}" for name in _local_files(result.stdout, page) if not name.exists()
    ]
    return OpenedPage(result.stdout, _page_requests(net_log), problems)


def _local_files(dom: str, page: Path) -> list[Path]:
    """The page's own scripts and stylesheets (Chromium does not log a missing local file)."""
    found = re.findall(r'<script[^>]* src="([^":]+)"|<link[^>]* href="([^":#]+)"', dom)
    return [page.parent / (script or link).split("?")[0] for script, link in found]


def _page_requests(net_log: Path) -> list[str]:
    """URLs the page (not the browser itself) asked of the network."""
    log = json.loads(net_log.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted(
        {
            event["params"]["url"]
            for event in log["events"]
            if event["type"] == start
            and "url" in event.get("params", {})
            and event["params"].get("network_isolation_key", "").startswith("file://")
        }
    )
