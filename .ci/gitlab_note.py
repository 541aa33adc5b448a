"""Post the report as one comment on the branch's open GitLab merge request, updated each push.

GitLab's job token cannot write comments, so this needs a project access token with the `api`
scope in the masked CI/CD variable REPORT_TOKEN; without it the report stays in the job's log
and artifacts, and this says how to get the comment. Standard library only: it runs before,
or without, the project's environment.
Usage: python .ci/gitlab_note.py report.md (in a GitLab CI job: it reads CI_API_V4_URL,
CI_PROJECT_ID and CI_MERGE_REQUEST_IID, or CI_COMMIT_REF_NAME to find the merge request).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


class GitLab:
    def __init__(self, api: str, project: str, token: str) -> None:
        self.api = api.rstrip("/")
        self.project = project
        self.base = f"{self.api}/projects/{urllib.parse.quote(project, safe='')}"
        self.token = token

    def call(
        self, method: str, path: str, body: dict[str, str] | None = None, root: bool = False
    ) -> Any:
        """One API call (``root``: outside the project); a list endpoint is read page by page
        (GitLab's X-Next-Page)."""
        data = json.dumps(body).encode() if body is not None else None
        result: list[Any] = []
        url = f"{self.api if root else self.base}{path}"
        while True:
            request = urllib.request.Request(url, data=data, method=method)
            request.add_header("PRIVATE-TOKEN", self.token)
            request.add_header("Content-Type", "application/json")
            with urllib.request.urlopen(request, timeout=30) as response:
                page = json.load(response)
                next_page = response.headers.get("X-Next-Page", "")
            if not isinstance(page, list):
                return page
            result.extend(page)
            if not next_page:
                return result
            parts = urllib.parse.urlsplit(url)
            query = dict(urllib.parse.parse_qsl(parts.query)) | {"page": next_page}
            url = parts._replace(query=urllib.parse.urlencode(query)).geturl()


def merge_request(gitlab: GitLab, env: dict[str, str]) -> str | None:
    if env.get("CI_MERGE_REQUEST_IID"):
        return env["CI_MERGE_REQUEST_IID"]
    branch = urllib.parse.quote(env.get("CI_COMMIT_REF_NAME", ""), safe="")
    found = gitlab.call("GET", f"/merge_requests?state=opened&source_branch={branch}&per_page=100")
    # A fork's branch of the same name opens its own merge request here: not this one's.
    ours = [mr for mr in found if str(mr.get("source_project_id")) == str(env["CI_PROJECT_ID"])]
    return str(ours[0]["iid"]) if ours else None


def post(report: str, env: dict[str, str]) -> str:
    """Create or update the one comment whose first line is the report's; say which."""
    token = env.get("REPORT_TOKEN", "")
    if not token:
        return (
            "no merge request comment: add a project access token (api scope) as the masked "
            "CI/CD variable REPORT_TOKEN; the report is in this job's log and artifacts"
        )
    gitlab = GitLab(env["CI_API_V4_URL"], env["CI_PROJECT_ID"], token)
    iid = merge_request(gitlab, env)
    if iid is None:
        branch = env.get("CI_COMMIT_REF_NAME", "")
        return f"no open merge request from {branch!r}: nothing to comment on"
    marker = report.splitlines()[0] if report else ""
    me = gitlab.call("GET", "/user", root=True)["id"]  # a person quoting the report: not ours
    notes = gitlab.call("GET", f"/merge_requests/{iid}/notes?per_page=100")
    mine = [
        note["id"]
        for note in notes
        if marker
        and note.get("body", "").startswith(marker)
        and note.get("author", {}).get("id") == me
    ]
    if mine:
        gitlab.call("PUT", f"/merge_requests/{iid}/notes/{mine[0]}", {"body": report})
        return f"updated the report on merge request !{iid}"
    gitlab.call("POST", f"/merge_requests/{iid}/notes", {"body": report})
    return f"posted the report on merge request !{iid}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python .ci/gitlab_note.py report.md", file=sys.stderr)
        return 2
    report = Path(argv[0]).read_text(encoding="utf-8")
    try:
        print(post(report, dict(os.environ)))
    except (urllib.error.URLError, OSError, KeyError, ValueError) as error:
        http = isinstance(error, urllib.error.HTTPError)
        reason = error if http else getattr(error, "reason", error)
        print(
            f"could not post the report on the merge request: {reason}; check that "
            "REPORT_TOKEN is a project access token with the api scope",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
