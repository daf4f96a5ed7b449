"""`hitlbench site` from the committed smoke records: the same bytes twice, every link resolves
inside the site, the suite page has the leaderboard's methods, a run page its rounds."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from hitlbench.cli import main
from hitlbench.harness.records import load_records
from hitlbench.harness.suites import load_suite
from hitlbench.publish.leaderboard import build, suite_options
from hitlbench.publish.site import MARKER, build_site

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "leaderboards" / "records"
FIGURES = ROOT / "leaderboards" / "figures"


def build_smoke(out: Path) -> Path:
    return build_site(out, suites=["smoke"], records_root=RECORDS, figures_root=FIGURES)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    build_smoke(out)
    return out


class Page(HTMLParser):
    """A page's links (href, src), element ids, and table rows as lists of cell texts."""

    def __init__(self, text: str):
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        self.links += [found[k] for k in ("href", "src") if found.get(k)]
        if found.get("id"):
            self.ids.add(found["id"])
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(path: Path) -> Page:
    return Page(path.read_text(encoding="utf-8"))


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_two_builds_are_byte_identical(site, tmp_path):
    again = tmp_path / "again"
    build_smoke(again)
    first, second = tree(site), tree(again)
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []


def test_every_link_resolves_to_a_file_of_the_site(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 2 + len(load_records(RECORDS / "smoke"))  # index, suite, a page per run
    broken = []
    for page in pages:
        for target in parse(page).links:
            parts = urlsplit(target)
            assert not parts.scheme and not parts.netloc, f"{page.name}: not relative: {target}"
            resolved = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            inside = resolved.is_relative_to(site.resolve()) and resolved.is_file()
            if not inside or (parts.fragment and parts.fragment not in parse(resolved).ids):
                broken.append(f"{page.relative_to(site)} -> {target}")
    assert broken == []


def test_the_suite_page_has_the_leaderboards_methods_and_links_to_each_run(site):
    records = load_records(RECORDS / "smoke")
    board = build(records, **suite_options(load_suite("smoke")))
    page = parse(site / "smoke.html")
    first = page.tables[0]
    assert first[0][:3] == ["method", "n", "corrections"]
    assert [row[0] for row in first[1 : 1 + len(board.methods)]] == board.methods
    assert {f"records/smoke/{r['run_id']}.html" for r in records} <= set(page.links)
    assert any(link.startswith("figures/smoke/") and link.endswith(".svg") for link in page.links)


def test_a_run_page_shows_its_rounds_spec_and_record(site):
    record = json.loads(next(iter(sorted((RECORDS / "smoke").glob("*.json")))).read_text())
    rid = record["run_id"]
    page = parse(site / "records" / "smoke" / f"{rid}.html")
    rounds = next(t for t in page.tables if t[0][:2] == ["round", "labeled"])
    assert [row[:2] for row in rounds[1:]] == [
        [str(r["round"]), str(r["n_labeled"])] for r in record["rounds"]
    ]
    assert {f"{rid}.json", f"{rid}.svg"} <= set(page.links)
    copied = site / "records" / "smoke" / f"{rid}.json"
    assert copied.read_bytes() == (RECORDS / "smoke" / f"{rid}.json").read_bytes()
    text = (site / "records" / "smoke" / f"{rid}.html").read_text()
    assert record["components"]["classifier"]["behaviour"] in text


def test_the_cli_builds_the_site_and_refuses_a_folder_that_is_not_one(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "site"
    assert main(["site", "smoke", "--out", str(out)]) == 0
    assert (out / "index.html").is_file() and (out / MARKER).is_file()
    assert main(["site", "smoke", "--out", str(out)]) == 0  # a site built before is replaced
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    assert main(["site", "smoke", "--out", str(other)]) == 2
    assert (other / "keep.txt").read_text() == "mine"
