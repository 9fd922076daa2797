"""The report's language: its gettext catalog (``locale/zh_CN/LC_MESSAGES/report.po``) and the words
every view shares (verdicts, zone kinds), so the HTML, PDF and CSV of one report say the same thing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from seatwatch.core.i18n import translator
from seatwatch.core.vocabulary import Verdict, ZoneKind

CATALOGS = Path(__file__).resolve().parent / "locale"
DOMAIN = "report"

Gettext = Callable[[str], str]


def report_gettext(lang: str) -> Gettext:
    """The report's ``_`` for ``lang`` ('zh-CN' or 'en')."""
    return translator(CATALOGS, DOMAIN, lang).gettext


def verdict_word(_: Gettext, verdict: Verdict | None) -> str:
    """A verdict in words; None is a zone whose kind the profile gives no zone checks."""
    words: dict[str, str] = {
        Verdict.PASS: _("pass"),
        Verdict.MARGINAL: _("marginal"),
        Verdict.FAIL: _("fail"),
        Verdict.INSUFFICIENT_DATA: _("insufficient data"),
    }
    return words.get(verdict or "", _("no zone checks"))


def zone_kind_word(_: Gettext, kind: ZoneKind) -> str:
    words: dict[str, str] = {
        ZoneKind.AGENT: _("agent seats"),
        ZoneKind.TRAINING: _("training room"),
        ZoneKind.MEETING: _("meeting room"),
        ZoneKind.RECEPTION: _("reception"),
        ZoneKind.REST: _("rest area"),
    }
    return words.get(kind, kind)
