"""What a leaderboard says of its suite's questions (`harness.questions`): whether the positive
control was detected and whether the suite could have seen the paper's effect (its opening
lines), each metric's margin with its reason and warnings where records ran under other
margins, and each of the paper's claims with the verdict here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..harness.questions import Claim, Control, Margin, Questions
from ..harness.verdicts import Comparison
from .board_model import Section
from .comparisons import DASH, number, seeds_text
from .markdown_tables import table_block
from .metric_names import metric_name


def claims_of(questions: Questions, setting: Mapping[str, Any]) -> list[Claim]:
    """The claims that apply to a setting."""
    return [c for c in questions.claims if c.applies(setting)]


def claimed_effects(
    questions: Questions, setting: Mapping[str, Any]
) -> dict[tuple[str, str, str], float]:
    """(method, reference, metric) -> the effect the paper reports, in this setting (a finding
    that two are alike has none: its margin is what the seeds are judged against)."""
    found = claims_of(questions, setting)
    return {(c.method, c.reference, c.metric): c.effect for c in found if c.effect}


def with_question_pairs(
    contrasts: Sequence[Sequence[str]], questions: Questions, baseline: str
) -> list[list[str]]:
    """The suite's contrasts, then each claim's and the control's pair that is neither a
    comparison with the baseline nor listed already."""
    pairs = [list(p) for p in contrasts]
    asked = [*questions.claims, *filter(None, [questions.positive_control])]
    for c in asked:
        if c.reference != baseline and [c.method, c.reference] not in pairs:
            pairs.append([c.method, c.reference])
    return pairs


def _interval(c: Comparison) -> str:
    ci = DASH if c.ci is None else f"[{number(c.ci[0])}, {number(c.ci[1])}]"
    return f"Δ {number(c.diff)} {ci}"


def control_detected(c: Comparison | None, control: Control) -> bool:
    """The control differs from its reference after Holm, in the expected direction."""
    return c is not None and c.detected and c.verdict.split(",")[0] == control.expect


def control_in(section: Section, questions: Questions) -> Control | None:
    """The suite's positive control where it holds in this section's setting, else None."""
    control = questions.positive_control
    return control if control is not None and control.applies(section.setting) else None


def detected_in(section: Section, questions: Questions, baseline: str) -> bool:
    """The control holds in this setting and was detected there."""
    control = control_in(section, questions)
    return control is not None and control_detected(
        section.comparison(control.method, control.reference, control.metric, baseline), control
    )


def could_see(c: Comparison | None, claim: Claim, detected: bool) -> bool:
    """The control was detected and the seeds could show the paper's finding with power 0.8:
    detect its effect, or, for a finding that two are alike, show them within the margin."""
    if not detected or c is None:
        return False
    if not claim.effect:
        return c.seeds_equivalence is not None and c.seeds_equivalence <= c.n_pairs
    return c.detectable is not None and c.detectable <= abs(claim.effect)


def agreement(c: Comparison | None, claim: Claim) -> str:
    """How the verdict here stands to the paper's finding: `as the paper`, `the other way`,
    `smaller than the paper's` (alike here within a margin narrower than the paper's effect), or
    `not shown` (no difference found, or no equivalence where the paper finds two alike)."""
    if c is None:
        return "not shown"
    alike = c.verdict in ("equivalent", "identical")
    if not claim.effect:  # the paper finds the two alike
        if alike:
            return "as the paper"
        return "the other way" if c.detected and "within margin" not in c.verdict else "not shown"
    if alike and (c.margin is None or c.margin < abs(claim.effect)):
        return "smaller than the paper's"  # alike within less than the paper's difference
    if not c.detected or c.diff is None:
        return "not shown"
    return "as the paper" if (c.diff > 0) == (claim.effect > 0) else "the other way"


def _main_claim(questions: Questions, setting: Mapping[str, Any]) -> Claim | None:
    return next((c for c in claims_of(questions, setting) if c.main), None)


def _control_line(section: Section, questions: Questions, baseline: str, where: str) -> str:
    control = control_in(section, questions)
    if control is None:
        return (
            f"positive control{where}: none known to differ in this setting, so no claim here "
            "can be called absent"
        )
    c = section.comparison(control.method, control.reference, control.metric, baseline)
    outcome = "detected" if control_detected(c, control) else "not detected"
    detail = "no records" if c is None else f"{c.label}, {_interval(c)}"
    return (
        f"positive control{where}: {control.method} vs {control.reference} on "
        f"{metric_name(control.metric)}: {outcome} ({detail})"
    )


def _sensitivity_line(section: Section, questions: Questions, baseline: str, where: str) -> str:
    claim = _main_claim(questions, section.setting)
    if claim is None:
        return f"sensitive to the paper's effect{where}: no (the suite states no main claim)"
    c = section.comparison(claim.method, claim.reference, claim.metric, baseline)
    detected = detected_in(section, questions, baseline)
    answer = "yes" if could_see(c, claim, detected) else "no"
    seen = DASH if c is None else number(c.detectable)
    if control_in(section, questions) is None:
        control = "no control in this setting"
    else:
        control = f"control {'detected' if detected else 'not detected'}"
    return (
        f"sensitive to the paper's effect{where}: {answer} (detectable Δ {seen} for "
        f"{claim.method} − {claim.reference} on {metric_name(claim.metric)}, against the "
        f"effect stated for it, {number(claim.effect)}; {control})"
    )


def opening_lines(sections: Sequence[Section], questions: Questions, baseline: str) -> list[str]:
    """Per setting: `positive control: <control> vs <reference> on <metric>: detected` (or
    `not detected`, or none in a setting the control does not hold in) and `sensitive to the
    paper's effect: yes` / `no`; nothing for a suite without a control or claims."""
    if questions.positive_control is None:
        if not questions.claims:
            return []
        return [
            "positive control: none stated, so no claim here can be called absent",
            "",
            "sensitive to the paper's effect: no (no positive control)",
            "",
        ]
    lines = []
    for section in sections:
        where = f" ({section.title})" if len(sections) > 1 else ""
        lines += [
            _control_line(section, questions, baseline, where),
            "",
            _sensitivity_line(section, questions, baseline, where),
            "",
        ]
    return lines


def margin_lines(margins: Mapping[str, Margin], metrics: Sequence[str]) -> list[str]:
    """The margin of each metric, in its units, with its reason."""
    if not margins:
        return []
    rows = []
    for metric in metrics:
        m = margins.get(metric)
        value = "not stated" if m is None else ("none" if m.value is None else f"±{m.value:g}")
        rows.append([metric_name(metric), value, DASH if m is None else m.reason])
    legend = (
        "Stated in the suite file, in each metric's own units (the warnings above say which "
        "records ran before margins were kept with them); `equivalent` means the paired "
        "difference lies within ± the margin (TOST); none: no equivalence question on that "
        "metric."
    )
    return table_block("## Margins", ["metric", "margin", "why this margin"], rows, legend)


def margin_warnings(
    records: Sequence[Mapping[str, Any]], margins: Mapping[str, Margin]
) -> list[str]:
    """Loud lines where records ran before margins were kept with them, or under others."""
    if not margins:
        return []
    now = {metric: m.value for metric, m in margins.items()}
    kept = [(r.get("suite") or {}).get("margins") for r in records]
    without = sum(k is None for k in kept)
    changed = sorted(
        {
            f"{metric} {value:g}" if value is not None else f"{metric} none"
            for k in kept
            if k is not None
            for metric, value in k.items()
            if metric in now and now[metric] != value
        }
    )
    lines = []
    if without:
        lines.append(
            f"- WARNING: {without} of {len(records)} records ran before margins were kept with "
            "records, so they cannot show which margins they ran under"
        )
    if changed:
        lines.append(
            f"- WARNING: records ran under other margins than the suite's now: {', '.join(changed)}"
        )
    return [*lines, ""] if lines else []


def _claim_row(section: Section, claim: Claim, baseline: str, detected: bool) -> list[str]:
    c = section.comparison(claim.method, claim.reference, claim.metric, baseline)
    found = (
        [DASH] * 4 if c is None else [_interval(c), c.label, number(c.detectable), seeds_text(c)]
    )
    return [
        claim.paper,
        f"{claim.method} − {claim.reference}",
        metric_name(claim.metric),
        f"{number(claim.effect) if claim.effect else '0 (alike)'} ({claim.reason})",
        *found,
        agreement(c, claim),
        "yes" if could_see(c, claim, detected) else "no",
    ]


def claim_lines(sections: Sequence[Section], questions: Questions, baseline: str) -> list[str]:
    """The paper's claims, per setting: the contrast, the paper's effect, the difference and
    verdict here, what the seeds could detect, and whether this suite could have seen it."""
    if not questions.claims:
        return []
    rows = []
    for section in sections:
        detected = detected_in(section, questions, baseline)
        setting = [section.title] if len(sections) > 1 else []
        claims = claims_of(questions, section.setting)
        rows += [[*setting, *_claim_row(section, c, baseline, detected)] for c in claims]
    headers = [
        *(["setting"] if len(sections) > 1 else []),
        "the paper", "contrast", "metric", "stated effect (why)", "here", "verdict",
        "detectable Δ", "seeds needed (Δ / TOST)", "here, against the paper",
        "could this suite have seen it",
    ]  # fmt: skip
    legend = (
        "Could this suite have seen it: yes only when the positive control was detected in that "
        "setting and the seeds at hand detect a difference of the paper's effect with power 0.8 "
        "(detectable Δ at most the effect; for a finding that two are alike, TOST within the "
        "margin needs no more seeds than ran). Here, against the paper: `as the paper` when the "
        "difference test finds the paper's direction (or TOST finds two alike where the paper "
        "does), `the other way` when it finds the opposite, `smaller than the paper's` when TOST "
        "finds the two alike within a margin narrower than the paper's effect, `not shown` "
        "otherwise. Where the suite could not have seen it, `not shown` does not show the effect "
        "absent."
    )
    return table_block("## The paper's claims", headers, rows, legend)


def _counted(labels: Sequence[str]) -> str:
    """`better` or, over several settings, `better 3, inconclusive 1` in order of first sight."""
    counts = {label: labels.count(label) for label in dict.fromkeys(labels)}
    if len(labels) == 1:
        return labels[0]
    return ", ".join(f"{label} {n}" for label, n in counts.items())


def glance(
    sections: Sequence[Section], questions: Questions, baseline: str
) -> tuple[str, list[str]]:
    """The control's outcome and each claim's verdicts here, in a few words each, for the
    site's index; over several settings, counted."""
    detected = [detected_in(s, questions, baseline) for s in sections]
    outcomes = [
        "none here" if control_in(s, questions) is None else ("detected" if d else "not detected")
        for s, d in zip(sections, detected, strict=True)
    ]
    outcome = DASH if questions.positive_control is None else _counted(outcomes)
    claims = []
    for claim in questions.claims:
        found = [
            (s.comparison(claim.method, claim.reference, claim.metric, baseline), d)
            for s, d in zip(sections, detected, strict=True)
            if claim.applies(s.setting)
        ]
        labels = [agreement(c, claim) for c, _ in found]
        seen = sum(could_see(c, claim, d) for c, d in found)
        where = "".join(f" {k}={v}" for k, v in sorted(claim.setting.items()))
        claims.append(
            f"{claim.paper}{' (' + where.strip() + ')' if where else ''}: {_counted(labels)} "
            f"(could have been seen in {seen} of {len(found)})"
        )
    return outcome, claims
