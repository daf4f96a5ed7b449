"""Command line: run, bench, leaderboard, replicate, plot, site, list, report (DESIGN §5)."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from tabulate import tabulate

from . import __version__
from .core.cache import CacheWarning
from .core.registry import PluginWarning
from .harness import yaml12
from .harness.records import class_name
from .harness.results import read_record
from .harness.spec import apply_override
from .publish.round_table import round_table
from .registries import COMPONENT_KINDS, REGISTRIES
from .simulation import error_analysis
from .types import HitlbenchError


def parse_set(items: Sequence[str]) -> list[tuple[str, Any]]:
    """`--set` items as (key, value) pairs, values parsed as YAML (1.2 numbers: 1e-3 is a float).

    Keys are applied by `spec.apply_override`, exactly as a suite file's keys are.
    """
    pairs = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise HitlbenchError(f"malformed --set {item!r}: expected kind.key=value or key=value")
        try:
            pairs.append((key, yaml12.load(text)))
        except yaml.YAMLError as exc:
            problem = " ".join(str(exc).split())
            raise HitlbenchError(
                f"malformed --set {item!r}: value is not valid YAML ({problem})"
            ) from exc
    return pairs


def build_raw_spec(args: argparse.Namespace) -> dict[str, Any]:
    """The user's spec from flags, then --set overrides in order (nothing resolved yet)."""
    raw: dict[str, Any] = {}
    for key in ("dataset", *COMPONENT_KINDS, "rounds", "batch_size", "seed", "threads", "device"):
        value = getattr(args, key)
        if value is not None:
            apply_override(raw, key, value)
    for key, value in parse_set(args.set):
        apply_override(raw, key, value)
    return raw


def _count_or_all(text: str) -> int | str:
    if text == "all":
        return "all"
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer or 'all', got {text!r}") from None


def summary_lines(record: dict) -> list[str]:
    s = record["summary"]
    reached = ", ".join(
        f"{t}: {'never' if v is None else f'{v:.0f} s'}" for t, v in s["effort_s_to"].items()
    )
    quality = (
        f"label errors in training {s['label_errors']} ({s['label_error_rate']:.3f}), missed "
        f"corrections {s['missed_corrections']}, unsure {s['unsure']}"
        if "label_errors" in s
        else None
    )
    prelabels = (
        f"pre-labels' accuracy {s['proposal_accuracy']:.3f}, unparseable {s['unparseable']}"
        if s.get("proposal_accuracy") is not None
        else None
    )
    return [
        f"total corrections {s['total_corrections']}, final accuracy {s['final_accuracy']:.4f}, "
        f"effort {s['effort_s_total']:.0f} s, aulc_effort {s['aulc_effort']:.4f} "
        f"(budget {s['effort_budget_s']:.0f} s)",
        *([quality] if quality else []),
        *([prelabels] if prelabels else []),
        f"effort to reach accuracy {reached}",
    ]


def cmd_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .harness.runner import execute
    from .harness.spec import resolve_spec

    spec = resolve_spec(build_raw_spec(args))
    names = " ".join(f"{k}={spec[k]['name']}" for k in ("dataset", *COMPONENT_KINDS))
    print(f"hitlbench run: {names} rounds={spec['rounds']} batch_size={spec['batch_size']} "
          f"seed={spec['seed']} device={spec['device']}", flush=True)  # fmt: skip
    bar: dict[str, Any] = {}

    def on_start(info: dict) -> None:
        print(
            f"run {info['run_id']}: pool {info['n_pool']}, holdout {info['n_holdout']}", flush=True
        )
        if info.get("prepared"):
            print(info["prepared"], flush=True)
        total = (
            None
            if spec["rounds"] == "all" and spec["batch_size"] != "all"
            else (1 if spec["batch_size"] == "all" else spec["rounds"])
        )
        bar["bar"] = tqdm(total=total, unit="round", disable=args.quiet, file=sys.stderr)

    def on_round(row: dict) -> None:
        bar["bar"].set_postfix(labeled=row["n_labeled"], acc=f"{row['metrics']['accuracy']:.3f}")
        bar["bar"].update(1)

    try:
        record, path = execute(spec, out=args.out, on_start=on_start, on_round=on_round)
    finally:
        if "bar" in bar:
            bar["bar"].close()
    print(round_table(record["rounds"]))
    for line in summary_lines(record):
        print(line)
    print(f"record: {path}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    kinds = list(REGISTRIES)
    if args.kind:
        kind = args.kind.rstrip("s") if args.kind.rstrip("s") in REGISTRIES else args.kind
        if kind not in REGISTRIES:
            raise HitlbenchError(f"unknown kind {args.kind!r}; kinds: {', '.join(REGISTRIES)}")
        kinds = [kind]
    for kind in kinds:
        registry = REGISTRIES[kind]
        rows = []
        for name in registry.available():  # a plugin that fails to load is listed below instead
            origin = f"{registry.origin(name)}, contract {registry.get(name).contract}"
            rows.append([name, ", ".join(registry.aliases(name)), origin,
                         registry.describe(name)])  # fmt: skip
        print(f"\n{kind}s ({registry.group})")
        print(
            tabulate(rows, headers=["name", "aliases", "origin", "description"], tablefmt="github")
        )
        for failure in registry.failures:
            print(f"  FAILED plugin {failure.name!r} ({failure.target}): {failure.error}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    for path in args.records:
        try:
            record = read_record(path)
        except (OSError, ValueError) as exc:
            raise HitlbenchError(f"cannot read record {path}: {exc}") from exc
        if not isinstance(record, dict) or not ({"error", "rounds"} & set(record)):
            raise HitlbenchError(f"{path} is not a run record (no rounds and no error)")
        if "error" in record:  # what `bench` writes for a cell that failed
            suite = record.get("suite") or {}
            cell = f" ({suite['name']}: {suite.get('method')})" if "name" in suite else ""
            error = str(record["error"]).strip().splitlines() or ["(no message)"]
            print(f"{path}: run {record.get('run_id')}{cell} FAILED: {error[0]}")
            continue
        print(f"{path}: run {record['run_id']}")
        print(round_table(record["rounds"]))
        for line in summary_lines(record):
            print(line)
        analysis = record["summary"].get("error_analysis")
        if analysis:
            n = len(analysis["corrections_by_class"])
            names = [class_name(record, c) for c in range(n)]
            print()
            print(error_analysis.markdown(analysis, names))
            if args.plot:
                figure = Path(path).with_suffix(".errors.png")
                print(f"figure: {error_analysis.figure(analysis, names, figure)}")
    return 0


RECORDS_ROOT = Path("leaderboards") / "records"
FIGURES_ROOT = Path("leaderboards") / "figures"
REPLICATIONS_ROOT = Path("leaderboards") / "replications"
DEFAULT_CELLS = 3  # cells `replicate` draws when given neither --cells nor --all


def suite_records(given: str | None, suite: str) -> Path:
    """A suite's records folder from `--records`: the root `bench --out` wrote to (holding
    `<suite>/`) or the suite's folder itself; default `leaderboards/records/<suite>`."""
    if given is None:
        return RECORDS_ROOT / suite
    path = Path(given)
    return path / suite if (path / suite).is_dir() else path


def cmd_bench(args: argparse.Namespace) -> int:
    from .harness.bench import run_suite
    from .harness.suites import load_suite

    suite = load_suite(args.suite)
    out_dir = Path(args.out or RECORDS_ROOT) / suite.name
    outcomes = run_suite(
        suite,
        out_dir,
        executor=args.executor,
        jobs=args.jobs,
        address=args.address,
        force=args.force,
        progress=not args.quiet,
        allow_dirty=args.allow_dirty,
    )
    failed = [o for o in outcomes if o.error]
    print(f"suite {suite.name}: {len(outcomes) - len(failed)} cells run, {len(failed)} failed; "
          f"records in {out_dir}")  # fmt: skip
    for o in failed:
        print(f"FAILED: {o.method} seed {o.seed} ({o.run_id}): {o.error}", file=sys.stderr)
    return 1 if failed else 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from .harness.suites import load_suite
    from .publish import leaderboard
    from .publish.replication import published_summary

    suite = load_suite(args.suite)
    records_dir = suite_records(args.records, suite.name)
    out = Path(args.out or Path("leaderboards") / f"{suite.name}.md")
    # a published replication re-ran the published records: a board of other records cites none
    replication = published_summary(REPLICATIONS_ROOT, suite.name) if not args.records else None
    options = leaderboard.suite_options(suite)
    path = leaderboard.write(records_dir, out, replication=replication, **options)
    print(f"leaderboard: {path}")
    return 0


def _check_replicate_flags(args: argparse.Namespace) -> None:
    """Refuse (`HitlbenchError`) combinations of replicate's flags that ask for two things, and
    --publish from uncommitted code, before any cell runs."""
    from .harness.results import git_hash
    from .publish.replication import check_committed

    if args.all and args.cells is not None:
        raise HitlbenchError("--cells and --all exclude each other: --all re-runs every cell")
    if args.all and args.seed is not None:
        raise HitlbenchError("--seed draws the cells to re-run; --all draws none")
    if args.publish and not args.all:
        raise HitlbenchError("--publish needs --all: a published replication re-runs every cell")
    if args.publish and args.records:
        raise HitlbenchError("--publish replicates the published records: leave out --records")
    if args.publish:
        check_committed(git_hash())


def cmd_replicate(args: argparse.Namespace) -> int:
    from .harness.suites import load_suite
    from .publish.replication import publish, replicate, report_lines

    _check_replicate_flags(args)
    suite = load_suite(args.suite)
    result = replicate(
        suite,
        suite_records(args.records, suite.name),
        n=None if args.all else (DEFAULT_CELLS if args.cells is None else args.cells),
        seed=args.seed,
        out_dir=Path(args.out) if args.out else None,
        progress=not args.quiet,
    )
    for line in report_lines(result):
        print(line)
    if args.publish:
        print(f"published: {publish(result, REPLICATIONS_ROOT)}")
    return 1 if result.failed else 0


def cmd_plot(args: argparse.Namespace) -> int:
    from .harness.records import load_records
    from .harness.suites import load_suite
    from .publish import plots

    targets = args.targets
    if len(targets) == 1 and not targets[0].endswith(".json") and not Path(targets[0]).is_dir():
        suite = load_suite(targets[0])
        sources, title, baseline = (
            [suite_records(args.records, suite.name)],
            suite.name,
            suite.baseline,
        )
        sweep, curves = suite.leaderboard.get("cost_sweep"), suite.leaderboard.get("curves")
        per_round = suite.leaderboard.get("round_figures")
        standard = suite.leaderboard.get("standard_figures", True)
        out = Path(args.out or Path("leaderboards") / "figures" / suite.name)
    elif args.records:
        raise HitlbenchError("--records goes with a suite name, not with record files or folders")
    else:
        sources, title, baseline = [Path(t) for t in targets], args.title or "hitlbench", None
        out = Path(args.out or "figures")
        sweep, curves, per_round, standard = None, None, None, True
    records = load_records(sources)
    if not records:
        raise HitlbenchError(f"no records found in {', '.join(map(str, sources))}")
    drawn = plots.plot(
        records,
        out,
        title=title,
        baseline=baseline,
        cost_sweep=sweep,
        curves=curves,
        per_round=per_round,
        standard=standard,
    )
    for path in drawn:
        print(path)
    return 0


def cmd_site(args: argparse.Namespace) -> int:
    from .publish.site import build_site

    index = build_site(
        Path(args.out),
        suites=args.suites or None,
        records_root=Path(args.records or RECORDS_ROOT),
        figures_root=FIGURES_ROOT,
    )
    print(f"site: {index}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hitlbench", description=__doc__)
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one combination of strategies under a simulated oracle")
    for kind in ("dataset", *COMPONENT_KINDS):
        run.add_argument(f"--{kind}", help=f"registered {kind} name (see `hitlbench list {kind}`)")
    run.add_argument("--set", action="append", default=[], metavar="KIND.KEY=VALUE",
                     help="a parameter, value parsed as YAML; repeatable")  # fmt: skip
    run.add_argument("--rounds", type=_count_or_all, help="rounds to run, or 'all' (default 10)")
    run.add_argument(
        "--batch-size", type=_count_or_all, help="items per round, or 'all' (default 50)"
    )
    run.add_argument("--seed", type=int, help="fixes the split, initial weights and every draw")
    run.add_argument("--threads", type=int, help="torch threads (part of the spec; default 2)")
    run.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default auto")
    run.add_argument("--out", default="results", help="folder for records (default results/)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    bench = sub.add_parser("bench", help="run a suite (benchmarks/<SUITE>.yaml or a path)")
    bench.add_argument("suite")
    bench.add_argument(
        "--out", help=f"records root (default {RECORDS_ROOT}); records go to OUT/<suite>/"
    )
    bench.add_argument("--executor", choices=["serial", "process", "ray"], default="serial")
    bench.add_argument("--jobs", type=int, default=1, help="cells at a time (process, ray)")
    bench.add_argument("--address", help="address of an existing Ray cluster (default: start one)")
    bench.add_argument("--force", action="store_true", help="recompute cells that have records")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")
    bench.add_argument(
        "--allow-dirty",
        action="store_true",
        help="run even with uncommitted changes to the package or the suites (records marked)",
    )
    bench.set_defaults(func=cmd_bench)

    board = sub.add_parser("leaderboard", help="render leaderboards/<SUITE>.md from its records")
    board.add_argument("suite")
    board.add_argument(
        "--records",
        help="the suite's records folder, or the root holding <suite>/ (as bench --out wrote it; "
        "default leaderboards/records/<suite>)",
    )
    board.add_argument("--out", help="markdown file (default leaderboards/<suite>.md)")
    board.set_defaults(func=cmd_leaderboard)

    replicate = sub.add_parser(
        "replicate",
        help="re-run published cells of a suite on this machine, compare their values and list "
        "the verdicts that would change",
    )
    replicate.add_argument("suite")
    replicate.add_argument(
        "--cells", type=int, help=f"cells to draw from the published ones (default {DEFAULT_CELLS})"
    )
    replicate.add_argument(
        "--seed", type=int, help="seed of the draw (default: a fresh one, printed)"
    )
    replicate.add_argument("--all", action="store_true", help="re-run every published cell")
    replicate.add_argument(
        "--out",
        help="scratch folder: records in OUT/<suite>/, the summary in OUT/<suite>.replication."
        "json (default: a new temporary folder; never inside leaderboards/)",
    )
    replicate.add_argument(
        "--records",
        help="the published records: the suite's folder or the root holding <suite>/ "
        "(default leaderboards/records/<suite>)",
    )
    replicate.add_argument(
        "--publish",
        action="store_true",
        help="with --all: also write the summary to leaderboards/replications/<suite>.json, "
        "which the suite's leaderboard cites",
    )
    replicate.add_argument("--quiet", action="store_true", help="no progress bar")
    replicate.set_defaults(func=cmd_replicate)

    plot = sub.add_parser("plot", help="figures (PNG and SVG) for a suite or for records")
    plot.add_argument("targets", nargs="+", metavar="SUITE|RECORD")
    plot.add_argument("--out", help="folder (default leaderboards/figures/<suite>)")
    plot.add_argument("--title", help="figure title when plotting records")
    plot.add_argument(
        "--records", help="with a suite: its records folder, or the root holding <suite>/"
    )
    plot.set_defaults(func=cmd_plot)

    site = sub.add_parser("site", help="a static HTML site of every suite's leaderboard and runs")
    site.add_argument("suites", nargs="*", metavar="SUITE", help="default: every suite")
    site.add_argument(
        "--out", default="site", help="folder, replaced if it holds a site (default site/)"
    )
    site.add_argument("--records", help=f"records root holding <suite>/ (default {RECORDS_ROOT})")
    site.set_defaults(func=cmd_site)

    lst = sub.add_parser("list", help="registered strategies with aliases, origin, description")
    lst.add_argument("kind", nargs="?", help=f"one of {', '.join(REGISTRIES)}")
    lst.set_defaults(func=cmd_list)

    report = sub.add_parser("report", help="print the per-round table of run records")
    report.add_argument("records", nargs="+")
    report.add_argument(
        "--plot",
        action="store_true",
        help="also draw the error analysis (confusion heat maps) beside each record, as PNG",
    )
    report.set_defaults(func=cmd_report)
    return parser


def _version() -> str:
    import torch

    return f"hitlbench {__version__} (torch {torch.__version__})"


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    with warnings.catch_warnings():  # restores warnings.showwarning afterwards
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None) -> None:
            """A plugin failure or a rebuilt cache entry as one clean line; any other warning
            as Python prints it."""
            if issubclass(category, (PluginWarning, CacheWarning)):
                print(f"hitlbench: warning: {message}", file=file or sys.stderr)
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except HitlbenchError as exc:
        print(f"hitlbench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "hitlbench: interrupted; no record was written for the unfinished run", file=sys.stderr
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
