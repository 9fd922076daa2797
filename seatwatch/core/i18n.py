"""Languages of what people read: a gettext translator per catalog folder, domain and locale.

Reports and certificates are filed by Chinese auditors and read by English-speaking engineers, so their
text comes from gettext catalogs (Babel's ``.po`` format, English message ids) kept beside the code that
uses them: ``<package>/locale/<zh_CN>/LC_MESSAGES/<domain>.po``. The ``.po`` files are compiled in memory
when first used (Babel's reader and writer), so a fresh clone and an installed wheel work alike and no
compiled ``.mo`` file can go stale. Any part of seatwatch gets its translator with::

    _ = translator(Path(__file__).parent / "locale", "certificate", site.locale).gettext

English needs no catalog: its message ids are the English text.
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("zh-CN", "en")
# Mainland China's IANA zones: a site there gets Simplified Chinese unless its site file says otherwise.
CHINESE_TIME_ZONES = frozenset(
    {"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "Asia/Urumqi", "Asia/Kashgar", "PRC"}
)


def normalize_locale(tag: str) -> str:
    """One of :data:`LOCALES` for a tag such as 'zh_CN', 'zh-Hans-CN', 'en-GB'; ValueError otherwise."""
    try:
        parsed = Locale.parse(tag.replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError) as exc:
        raise ValueError(f"{tag!r} is not a language tag (use one of: {', '.join(LOCALES)})") from exc
    if parsed.language == "en":
        return "en"
    if parsed.language == "zh" and parsed.script in (None, "Hans") and parsed.territory in (None, "CN"):
        return "zh-CN"
    raise ValueError(f"no translation for {tag!r} (use one of: {', '.join(LOCALES)})")


def default_locale(timezone: str) -> str:
    """zh-CN for a site in a mainland Chinese time zone, English elsewhere."""
    return "zh-CN" if timezone in CHINESE_TIME_ZONES else "en"


def catalog_path(catalog_dir: Path, domain: str, locale: str) -> Path:
    """Where the ``.po`` file of ``domain`` in ``locale`` lives ('zh-CN' → zh_CN/LC_MESSAGES/)."""
    return Path(catalog_dir) / locale.replace("-", "_") / "LC_MESSAGES" / f"{domain}.po"


@lru_cache(maxsize=32)
def translator(catalog_dir: Path, domain: str, locale: str) -> gettext.NullTranslations:
    """The translations of ``domain`` for ``locale``, compiled from its ``.po`` catalog on first use.

    English returns the message ids unchanged. A missing catalog for another supported locale is a
    packaging error, not a reason to print English silently: it raises FileNotFoundError.
    """
    locale = normalize_locale(locale)
    if locale == "en":
        return gettext.NullTranslations()
    path = catalog_path(catalog_dir, domain, locale)
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale.replace("-", "_"), domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
