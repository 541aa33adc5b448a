"""The GitLab job's merge request comment, against a stand-in of GitLab's API on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tests.conftest import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / ".ci" / "gitlab_note.py"
TOKEN = "glpat-test"
BOT = 5  # the token's user


class FakeGitLab(BaseHTTPRequestHandler):
    """Project 42 (CI_PROJECT_ID), merge request !7 from its branch 'smaller-c'.
    Notes are served one per page, so that the script must follow X-Next-Page."""

    notes: ClassVar[list[dict[str, Any]]] = []
    calls: ClassVar[list[str]] = []

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, body: Any, next_page: str = "") -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Next-Page", next_page)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self, method: str) -> None:
        self.calls.append(f"{method} {self.path}")
        if self.headers.get("PRIVATE-TOKEN") != TOKEN:
            return self._reply(401, {"message": "401 Unauthorized"})
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        prefix = "/api/v4/projects/42"
        path = parts.path.removeprefix(prefix)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else {}
        if method == "GET" and self.path == "/api/v4/user":
            return self._reply(200, {"id": BOT})
        if method == "GET" and path == "/merge_requests":
            found = query.get("source_branch") == "smaller-c" and query.get("state") == "opened"
            fork = {"iid": 3, "source_project_id": 99}  # a fork's branch of the same name
            return self._reply(200, [fork, {"iid": 7, "source_project_id": 42}] if found else [])
        if method == "GET" and path == "/merge_requests/7/notes":
            page = int(query.get("page", "1"))
            more = str(page + 1) if page < len(self.notes) else ""
            return self._reply(200, self.notes[page - 1 : page], more)
        if method == "POST" and path == "/merge_requests/7/notes":
            note = {"id": 100 + len(self.notes), "body": body["body"], "author": {"id": BOT}}
            self.notes.append(note)
            return self._reply(201, self.notes[-1])
        if method == "PUT" and path.startswith("/merge_requests/7/notes/"):
            note = next(n for n in self.notes if n["id"] == int(path.rsplit("/", 1)[1]))
            note["body"] = body["body"]
            return self._reply(200, note)
        return self._reply(404, {"message": "404 Not Found"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")


@pytest.fixture
def gitlab() -> Iterator[str]:
    FakeGitLab.notes = [
        {"id": 1, "body": "LGTM", "author": {"id": 8}},
        # a reviewer quoting an earlier report: it starts with the marker, but is not ours
        {"id": 2, "body": "<!-- marker -->\nwhy did accuracy drop?", "author": {"id": 8}},
    ]
    FakeGitLab.calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitLab)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    server.shutdown()
    server.server_close()


def note(tmp_path, report: str, **env: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "report.md").write_text(report)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "report.md"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_one_comment_per_merge_request_posted_then_updated(tmp_path, gitlab):
    env = {"CI_API_V4_URL": gitlab, "CI_PROJECT_ID": "42", "REPORT_TOKEN": TOKEN}
    first = note(
        tmp_path, "<!-- marker -->\naccuracy 0.90\n", CI_COMMIT_REF_NAME="smaller-c", **env
    )
    assert first.returncode == 0 and first.stdout == "posted the report on merge request !7\n"
    second = note(
        tmp_path, "<!-- marker -->\naccuracy 0.91\n", CI_COMMIT_REF_NAME="smaller-c", **env
    )
    assert second.stdout == "updated the report on merge request !7\n"
    assert [n["body"] for n in FakeGitLab.notes] == [
        "LGTM",
        "<!-- marker -->\nwhy did accuracy drop?",  # a person's quote left alone
        "<!-- marker -->\naccuracy 0.91\n",  # the one comment, the latest report
    ]
    assert any("page=3" in call for call in FakeGitLab.calls)  # followed the pages to find it
    # In a merge request pipeline the request is named; no look-up by branch.
    FakeGitLab.calls = []
    third = note(tmp_path, "<!-- marker -->\naccuracy 0.92\n", CI_MERGE_REQUEST_IID="7", **env)
    assert third.stdout == "updated the report on merge request !7\n"
    assert not any("source_branch" in call for call in FakeGitLab.calls)


def test_without_a_token_or_a_merge_request_it_says_so_and_succeeds(tmp_path, gitlab):
    quiet = note(tmp_path, "<!-- marker -->\n", CI_API_V4_URL=gitlab, CI_PROJECT_ID="42")
    assert quiet.returncode == 0 and "REPORT_TOKEN" in quiet.stdout
    assert FakeGitLab.calls == []
    env = {"CI_API_V4_URL": gitlab, "CI_PROJECT_ID": "42", "REPORT_TOKEN": TOKEN}
    alone = note(tmp_path, "<!-- marker -->\n", CI_COMMIT_REF_NAME="no-mr-yet", **env)
    assert alone.returncode == 0
    assert alone.stdout == "no open merge request from 'no-mr-yet': nothing to comment on\n"


def test_a_refused_token_is_one_line_that_says_what_to_check(tmp_path, gitlab):
    env = {"CI_API_V4_URL": gitlab, "CI_PROJECT_ID": "42", "REPORT_TOKEN": "wrong"}
    refused = note(tmp_path, "<!-- marker -->\n", CI_COMMIT_REF_NAME="smaller-c", **env)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1
    assert "HTTP Error 401" in refused.stderr and "api scope" in refused.stderr
