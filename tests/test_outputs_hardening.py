"""Records and outputs of `leaderboard` and `site`: a record holding NaN or an infinity is
refused naming its file and field; a bad record leaves the previous leaderboard or site as it
was; an --out that cannot be created or written gives one line and exit status 2."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from hitlbench.cli import main
from hitlbench.harness.records import LeaderboardError, load_records
from hitlbench.harness.results import read_record
from hitlbench.publish import site

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "leaderboards" / "records" / "smoke"
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]  # what Python's json reads as a float


def records_root(tmp_path: Path) -> Path:
    """A records root the test owns: <root>/smoke/ holding copies of two of the smoke records,
    the baseline's seeds 0 and 1 (a board without comparisons renders in a blink)."""
    folder = tmp_path / "records" / "smoke"
    folder.mkdir(parents=True)
    for path in sorted(SMOKE.glob("*.json")):
        record = json.loads(path.read_text())
        if record["suite"]["method"] == "Random" and record["spec"]["seed"] < 2:
            shutil.copyfile(path, folder / path.name)
    assert len(list(folder.iterdir())) == 2
    return folder.parent


def spoil(root: Path, literal: str, field: tuple[str, ...] = ("summary", "final_accuracy")):
    """Write `literal` (NaN, Infinity, ...) as the value of `field` in the first smoke record,
    as a hand edit or another JSON writer would; the record's path."""
    path = sorted((root / "smoke").glob("*.json"))[0]
    record = json.loads(path.read_text())
    parent = record
    for key in field[:-1]:
        parent = parent[int(key)] if isinstance(parent, list) else parent[key]
    parent[field[-1]] = "@spoilt@"
    path.write_text(json.dumps(record, indent=1).replace('"@spoilt@"', literal))
    return path


def add_unreadable_record(root: Path) -> Path:
    """A record cut short, as a copy interrupted half-way leaves it."""
    path = root / "smoke" / "zz-cut-short.json"
    path.write_text('{"schema": 1, "summary": {"final_accuracy": 0.')
    return path


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def one_error_line(capsys) -> str:
    """The one line the CLI wrote to stderr (no traceback, nothing else)."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hitlbench: error: ")
    return lines[0]


# NaN and infinities in a record


@pytest.mark.parametrize("literal", NOT_FINITE)
def test_a_record_holding_nan_or_infinity_is_refused_naming_file_and_field(tmp_path, literal):
    root = records_root(tmp_path)
    path = spoil(root, literal)
    with pytest.raises(LeaderboardError) as caught:
        load_records(root / "smoke")
    message = str(caught.value)
    assert str(path) in message
    assert f"summary.final_accuracy is {literal}, not a finite number" in message
    with pytest.raises(ValueError, match="summary.final_accuracy is"):
        read_record(path)  # what `report` reads


def test_a_non_finite_number_deep_in_the_rounds_is_named_by_its_place(tmp_path):
    root = records_root(tmp_path)
    path = spoil(root, "NaN", ("rounds", "1", "metrics", "accuracy"))
    with pytest.raises(LeaderboardError, match=r"rounds\[1\]\.metrics\.accuracy is NaN"):
        load_records([path])


@pytest.mark.parametrize("command", ["leaderboard", "site"])
def test_the_cli_refuses_a_record_with_nan_in_one_line(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(ROOT)  # the site copies the committed figures
    root = records_root(tmp_path)
    path = spoil(root, "NaN")
    out = tmp_path / ("board.md" if command == "leaderboard" else "site")
    assert main([command, "smoke", "--records", str(root), "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert str(path) in line and "summary.final_accuracy is NaN" in line
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# A bad record leaves the previous output as it was


def test_a_bad_record_leaves_the_previous_leaderboard_intact(tmp_path, capsys):
    root = records_root(tmp_path)
    out = tmp_path / "boards" / "smoke.md"
    assert main(["leaderboard", "smoke", "--records", str(root), "--out", str(out)]) == 0
    before = out.read_bytes()
    spoil(root, "Infinity")
    assert main(["leaderboard", "smoke", "--records", str(root), "--out", str(out)]) == 2
    assert "summary.final_accuracy is Infinity" in one_error_line(capsys)
    assert out.read_bytes() == before
    assert [p.name for p in out.parent.iterdir()] == ["smoke.md"]  # no temp file left


@pytest.mark.parametrize("bad", ["cut short", "NaN"])
def test_a_bad_record_leaves_the_previous_site_intact(tmp_path, monkeypatch, capsys, bad):
    monkeypatch.chdir(ROOT)
    root = records_root(tmp_path)
    out = tmp_path / "site"
    assert main(["site", "smoke", "--records", str(root), "--out", str(out)]) == 0
    before = tree(out)
    path = add_unreadable_record(root) if bad == "cut short" else spoil(root, "NaN")
    assert main(["site", "smoke", "--records", str(root), "--out", str(out)]) == 2
    assert str(path) in one_error_line(capsys)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records", "site"]  # no build left


def test_a_site_build_that_fails_half_way_leaves_the_previous_site_intact(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(ROOT)
    root = records_root(tmp_path)
    out = tmp_path / "site"
    assert main(["site", "smoke", "--records", str(root), "--out", str(out)]) == 0
    before = tree(out)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", str(out / "figures"))

    monkeypatch.setattr(site, "_figures", disk_full)  # after the run pages are written
    assert main(["site", "smoke", "--records", str(root), "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert f"site not built, {out} left as it was" in line and "No space left" in line
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records", "site"]


def test_a_new_site_replaces_the_old_one_whole(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    root = records_root(tmp_path)
    out = tmp_path / "site"
    assert main(["site", "smoke", "--records", str(root), "--out", str(out)]) == 0
    (out / "stale.html").write_text("from an older build")
    assert main(["site", "smoke", "--records", str(root), "--out", str(out)]) == 0
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records", "site"]


# An --out that cannot be created or written


def unwritable_outs(tmp_path: Path, name: str) -> dict[str, Path]:
    """--out paths that cannot be written, by kind (those this system can make)."""
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    outs = {"under a file": blocker / "sub" / name}
    if Path("/proc/self").is_dir():
        outs["pseudo file system"] = Path("/proc") / f"hitlbench-{os.getpid()}" / name
    if os.geteuid() != 0:  # root writes into read-only folders anyway
        read_only = tmp_path / "read_only"
        read_only.mkdir()
        read_only.chmod(0o555)
        outs["read-only folder"] = read_only / name
    return outs


@pytest.mark.parametrize("command", ["leaderboard", "site"])
def test_an_unwritable_out_gives_one_line_and_exit_2(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(ROOT)
    root = records_root(tmp_path)
    name = "board.md" if command == "leaderboard" else "site"
    what = "the leaderboard" if command == "leaderboard" else "the site"
    for kind, out in unwritable_outs(tmp_path, name).items():
        assert main([command, "smoke", "--records", str(root), "--out", str(out)]) == 2, kind
        line = one_error_line(capsys)
        assert line.startswith(f"hitlbench: error: cannot write {what} to {out}: "), (kind, line)
        assert not out.exists()


def test_a_folder_where_the_leaderboard_should_be_gives_one_line(tmp_path, capsys):
    root = records_root(tmp_path)
    out = tmp_path / "board.md"
    out.mkdir()
    assert main(["leaderboard", "smoke", "--records", str(root), "--out", str(out)]) == 2
    line = one_error_line(capsys)
    assert line == f"hitlbench: error: cannot write the leaderboard to {out}: Is a directory"
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.md", "records"]
