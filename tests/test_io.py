import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from stages.core.io import atomic_path, read_written_csv, spreadsheet_safe, write_csv, write_text


def test_formulas_are_defused_and_numbers_kept(tmp_path):
    frame = pd.DataFrame(
        {
            "label": pd.array(
                ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "-1", "+0.5", "ok"],
                dtype="string",
            ),
            "count": [1, -2, 3, 4, 5, 6, 7],
        }
    )
    safe = spreadsheet_safe(frame)
    assert safe["label"].tolist() == [
        "'=1+1",
        "'+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1)",
        "-1",
        "+0.5",
        "ok",
    ]
    assert safe["count"].tolist() == [1, -2, 3, 4, 5, 6, 7]
    write_csv(tmp_path / "out.csv", frame)
    assert "'=1+1" in (tmp_path / "out.csv").read_text()


def test_the_escape_can_be_undone_so_distinct_values_stay_distinct():
    values = ["=x", "'=x", "''=x", "'quoted'", "it's", "-1", "'-1"]
    frame = pd.DataFrame({"item_id": pd.array(values, dtype="string")})
    written = spreadsheet_safe(frame)["item_id"].tolist()
    assert written == ["'=x", "''=x", "'''=x", "''quoted'", "it's", "-1", "''-1"]
    undone = [value[1:] if value.startswith("'") else value for value in written]
    assert undone == values


def test_a_written_csv_reads_back_as_it_was(tmp_path):
    """evaluate reads label-merge's annotators back for its chart: an annotator called NA or
    null was drawn as a gap ("null"), and =cmd as '=cmd."""
    ids = ["=cmd", "'=x", "NA", "null", "None", "-1", "ann 7"]
    frame = pd.DataFrame({"annotator_id": pd.array(ids, dtype="string"),
                          "gold_accuracy": [0.5, None, 1.0, 0.25, None, 0.0, 0.75]})  # fmt: skip
    write_csv(tmp_path / "a.csv", frame)
    read = read_written_csv(tmp_path / "a.csv", ["annotator_id", "absent"])
    pd.testing.assert_frame_equal(read, frame)


def test_a_failed_write_leaves_the_previous_file(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    try:
        with atomic_path(target) as tmp:
            tmp.write_text("half of the new")
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_a_temporary_file_a_killed_run_left_goes_with_the_next_write(tmp_path):
    """kill -9 between write and rename leaves `.name.XXXXXXXX.tmp`; the next write of the same
    path removes it (another file's temporaries are left alone)."""
    target = tmp_path / "model.skops"
    (tmp_path / ".model.skops.ab12cd_9.tmp").write_text("a killed run's bytes")
    (tmp_path / ".model.skops.json.ab12cd_9.tmp").write_text("another file's")
    write_text(target, "new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".model.skops.json.ab12cd_9.tmp",
        "model.skops",
    ]


def test_sigkill_mid_write_leaves_old_or_new_never_half(tmp_path):
    """A process killed while writing (repeatedly, at different moments) never leaves a torn file."""
    target = tmp_path / "big.txt"
    old = "old\n" * 10
    target.write_text(old)
    writer = (
        "import sys; from stages.core.io import write_text\n"
        "for n in range(100000): write_text(sys.argv[1], ('new %d\\n' % n) * 20000)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    for delay in (0.05, 0.2, 0.4, 0.7):
        process = subprocess.Popen([sys.executable, "-c", writer, str(target)], env=env)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        text = target.read_text()
        lines = set(text.splitlines())
        assert text == old or (len(lines) == 1 and len(text.splitlines()) == 20000), "torn file"


def test_json_with_an_integer_python_refuses_is_a_data_error(tmp_path):
    from stages.core.errors import DataError
    from stages.core.reading import read_json

    path = tmp_path / "export.json"
    path.write_text('[{"id": ' + "9" * 5000 + "}]")
    with pytest.raises(DataError, match="unreadable JSON"):
        read_json(path)


def test_json_outputs_are_byte_stable_whatever_the_order_of_keys():
    from stages.core.io import canonical_json

    assert canonical_json({"b": 1, "a": 0.1234567}) == '{\n  "a": 0.123457,\n  "b": 1\n}\n'
    assert canonical_json({"a": 0.1234567, "b": 1}) == canonical_json({"b": 1, "a": 0.1234567})


def test_json_records_refuse_nan_which_no_strict_parser_reads(tmp_path):
    from stages.core.io import write_json_records

    with pytest.raises(ValueError):
        write_json_records(tmp_path / "tasks.json", [{"text": float("nan")}])
    assert not (tmp_path / "tasks.json").exists()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_get_the_mode_of_any_file_the_team_writes(tmp_path, umask, mode):
    """mkstemp makes 0600 files, and outputs had been set to 0644 whatever the umask: a team
    that keeps its data private (077) got world-readable reports, one sharing a group (002)
    files the group could not update."""
    before = os.umask(umask)
    try:
        write_text(tmp_path / "out.txt", "x")
        (tmp_path / "touched.txt").touch()
    finally:
        os.umask(before)
    assert (tmp_path / "out.txt").stat().st_mode & 0o777 == mode
    assert (tmp_path / "touched.txt").stat().st_mode & 0o777 == mode


def test_a_tab_or_carriage_return_before_a_formula_is_defused_too():
    frame = pd.DataFrame({"label": pd.array(["\t=cmd", "\r=x", "\tplain"], dtype="string")})
    assert spreadsheet_safe(frame)["label"].tolist() == ["'\t=cmd", "'\r=x", "'\tplain"]


def test_the_tables_digest_does_not_depend_on_the_listing_order(tmp_path, monkeypatch):
    from pathlib import Path

    from stages.core.reading import tables_digest

    for name in ("a.parquet", "b/c.parquet", "d.parquet"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(name.encode())
    listed = tables_digest(tmp_path)
    rglob = Path.rglob
    monkeypatch.setattr(Path, "rglob", lambda self, pattern: reversed(list(rglob(self, pattern))))
    assert tables_digest(tmp_path) == listed
