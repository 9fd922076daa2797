"""The report's languages: every message the report code asks for has a Simplified Chinese translation
with the same placeholders, found by Babel's extractor over the code (not by a list kept by hand), and the
site file's ``locale`` key chooses the language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from seatwatch.core.config_errors import ConfigError
from seatwatch.core.i18n import default_locale, normalize_locale, translator
from seatwatch.core.site_file import load_site
from tests.example_site_floor import site_copy

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "analysis" / "report"
CATALOG = REPORT / "locale" / "zh_CN" / "LC_MESSAGES" / "report.po"


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_every_report_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    used = {msg for _, _, msg, _, _ in extract_from_dir(str(REPORT)) if isinstance(msg, str)}
    assert len(used) > 100  # the extractor found the report's messages (not inside f-strings)
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    translated = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(used - set(translated))
    assert missing == [], missing
    for msg in used:
        text = translated[msg]
        assert isinstance(text, str), msg  # the report has no plural messages
        assert _placeholders(text) == _placeholders(msg), msg
        assert re.search(r"[\u4e00-\u9fff]", text), msg
    stale = sorted(set(translated) - used)
    assert stale == [], stale


def test_translator_compiles_the_catalog_and_english_is_the_message_ids() -> None:
    zh = translator(REPORT / "locale", "report", "zh_CN")
    assert zh.gettext("Page {page} of {pages}") == "第 {page} 页 共 {pages} 页"
    assert translator(REPORT / "locale", "report", "en-GB").gettext("Prepared by") == "Prepared by"
    with pytest.raises(FileNotFoundError):
        translator(REPORT / "locale", "no-such-domain", "zh-CN")


def test_language_tags_and_defaults() -> None:
    assert [normalize_locale(t) for t in ("zh-CN", "zh_CN", "zh-Hans-CN", "zh", "en", "en-US")] == [
        "zh-CN",
        "zh-CN",
        "zh-CN",
        "zh-CN",
        "en",
        "en",
    ]
    for bad in ("fr", "zh-TW", "zh-Hant", "klingon!"):
        with pytest.raises(ValueError):
            normalize_locale(bad)
    assert default_locale("Asia/Shanghai") == "zh-CN" and default_locale("Europe/Paris") == "en"


def test_site_file_locale_key(tmp_path: Path) -> None:
    assert load_site(site_copy(tmp_path, "http://127.0.0.1:1", "x")).locale == "zh-CN"  # Shanghai default
    assert load_site(site_copy(tmp_path, "http://127.0.0.1:1", "x", locale="en")).locale == "en"
    path = site_copy(tmp_path, "http://127.0.0.1:1", "x", locale="fr-FR")
    line = path.read_text(encoding="utf-8").splitlines().index('locale = "fr-FR"') + 1
    with pytest.raises(ConfigError) as caught:
        load_site(path)
    assert f"site.toml:{line}: site.locale: no translation for 'fr-FR'" in str(caught.value)  # file:line:key


def test_profile_standards_and_basis_are_validated_with_line_and_key(tmp_path: Path) -> None:
    from seatwatch.core.rules.profile import load_rules_profile

    text = (ROOT / "seatwatch" / "core" / "rules" / "profiles" / "iac-csc.toml").read_text(encoding="utf-8")
    text = text.replace('standard = "JGJ/T 67-2019"', 'standard = "JGJ/T 99"', 1)
    text = text.replace('clause = "4.1.2', 'page = 3, clause = "4.1.2', 1)
    text = text.replace('confidence = "M" }', 'confidence = "H" }', 1)  # the noise target: now all H, check M
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_rules_profile(str(path))
    lines = text.splitlines()
    message = str(caught.value)
    bad = next(i for i, x in enumerate(lines, 1) if "JGJ/T 99" in x)
    assert f":{bad}: " in message or f":{bad - 1}: " in message  # the entry's line or its basis = [ line
    assert "basis[0].standard: 'JGJ/T 99' is not the id of a [[standards]] entry" in message
    assert "zones.agent.checks[0].basis[1].page: unknown key" in message
    assert "zones.agent.checks[1].confidence: is 'M' but the lowest confidence of its basis is 'H'" in message
