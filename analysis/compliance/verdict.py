"""Verdicts: a value and its coverage against a check's requirement and target.

``pass`` meets the target, ``marginal`` meets the requirement but not the target, ``fail`` misses the
requirement, ``insufficient_data`` when less than the profile's ``min_coverage`` (75 % by default) of the
check's hours were covered by readings — a seat measured for 60 % of its hours is not shown as passing.
A seat's verdict is the worst of its checks, in the order pass < marginal < insufficient_data < fail: a
measured failure outranks a gap, and a gap outranks a marginal result because it could hide a failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from seatwatch.core.rules.profile import Check
from seatwatch.core.vocabulary import Verdict


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst verdict; no checks at all is insufficient data, never a pass."""
    order = list(Verdict)  # best to worst: the members are declared in that order
    ranks = [order.index(v) for v in verdicts]
    return order[max(ranks)] if ranks else Verdict.INSUFFICIENT_DATA


def counts_text(counts: Mapping[str, int]) -> str:
    """Seats counted by verdict as the analyze and report commands print them: '40 pass, 3 marginal,
    1 fail, 4 insufficient data' (the failures before the gaps, as an operator reads a result)."""
    shown = (Verdict.PASS, Verdict.MARGINAL, Verdict.FAIL, Verdict.INSUFFICIENT_DATA)
    return ", ".join(f"{counts[v]} {v.replace('_', ' ')}" for v in shown)


@dataclass
class CheckResult:
    """One check's outcome for a seat or zone, with what a reader needs to trust it."""

    check: str
    title: str
    value: float | None
    required: float | None
    target: float | None
    unit: str
    direction: str
    source: str
    confidence: str
    verdict: Verdict
    coverage: float | None
    reasons: list[str] = field(default_factory=list)
    details: dict[str, float | str | None] = field(default_factory=dict)


def fmt(value: float, unit: str) -> str:
    """A value for a reason sentence: 2 decimals for ratios, 1 for levels and lux."""
    text = f"{value:.2f}" if not unit else f"{value:.1f}"
    return f"{text} {unit}".strip()


def judge(check: Check, value: float | None, coverage: float, min_coverage: float) -> CheckResult:
    """The verdict of ``check`` for ``value`` with ``coverage``; reasons say why in plain words."""
    result = CheckResult(
        check=check.id,
        title=check.title,
        value=value,
        required=check.required,
        target=check.target,
        unit=check.unit,
        direction=check.direction,
        source=check.source,
        confidence=check.confidence,
        verdict=Verdict.INSUFFICIENT_DATA,
        coverage=coverage,
    )
    word = "at most" if check.direction == "max" else "at least"
    if check.confidence == "L":
        result.reasons.append("limit of confidence L: provisional, not confirmed as the standard's word")
    if value is None:
        result.reasons.append(f"no readings in the check's hours (coverage {coverage:.0%})")
        return result
    if coverage < min_coverage:
        result.reasons.append(
            f"readings cover {coverage:.0%} of the check's hours, under the {min_coverage:.0%} needed"
        )
        return result
    shown = fmt(value, check.unit)
    if check.meets(value, check.target):
        result.verdict = Verdict.PASS
        result.reasons.append(f"{shown} meets the target ({word} {fmt(check.target, check.unit)})")
    elif check.meets(value, check.required):
        result.verdict = Verdict.MARGINAL
        result.reasons.append(
            f"{shown} meets the requirement ({word} {fmt(check.required, check.unit)}) "
            f"but not the target ({fmt(check.target, check.unit)})"
        )
    else:
        result.verdict = Verdict.FAIL
        result.reasons.append(f"{shown} misses the requirement ({word} {fmt(check.required, check.unit)})")
    return result
