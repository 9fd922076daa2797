"""The report's language: its gettext catalog (``locale/zh_CN/LC_MESSAGES/report.po``) and the words
every view shares (verdicts, zone kinds), so the HTML, PDF and CSV of one report say the same thing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from seatwatch.core.i18n import translator

CATALOGS = Path(__file__).resolve().parent / "locale"
DOMAIN = "report"

Gettext = Callable[[str], str]


def report_gettext(lang: str) -> Gettext:
    """The report's ``_`` for ``lang`` ('zh-CN' or 'en')."""
    return translator(CATALOGS, DOMAIN, lang).gettext


def verdict_word(_: Gettext, verdict: str | None) -> str:
    words = {
        "pass": _("pass"),
        "marginal": _("marginal"),
        "fail": _("fail"),
        "insufficient_data": _("insufficient data"),
    }
    return words.get(verdict or "", _("no zone checks"))


def zone_kind_word(_: Gettext, kind: str) -> str:
    words = {
        "agent": _("agent seats"),
        "training": _("training room"),
        "meeting": _("meeting room"),
        "reception": _("reception"),
        "rest": _("rest area"),
    }
    return words.get(kind, kind)
