"""report.pdf: the printed form of report.html, made with WeasyPrint.

WeasyPrint (a maintained HTML/CSS-to-PDF library on Pango) rather than headless Chromium: it implements
the CSS paged media the document needs — ``@page`` size and margin boxes with ``counter(pages)`` for
"第 x 页 共 y 页" and the document number, repeated table headers, ``break-inside: avoid`` on a seat's rows —
it is a Python dependency (no browser process per report, nothing to sandbox on a server) and it embeds
subsets of the fonts it uses. Chinese text needs a CJK font installed (Debian: fonts-noto-cjk):
without one every Chinese glyph would be a box, so that is refused rather than written.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from analysis.report.output_files import write_private_bytes


class PdfUnavailable(RuntimeError):
    """report.pdf cannot be made on this machine (a library or a font is missing); says what to install."""


def _has_chinese_font() -> bool:
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def write_pdf(html: str, path: Path) -> None:
    """Render ``html`` (a report page, print styles included) to an A4 PDF at ``path``."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: WeasyPrint found no Pango library
        raise PdfUnavailable(
            f"WeasyPrint cannot load ({exc}); install it with its system libraries "
            "(Debian: libpango-1.0-0 libpangoft2-1.0-0)"
        ) from exc
    if not _has_chinese_font():
        raise PdfUnavailable(
            "no font with Chinese glyphs is installed (Debian: apt-get install fonts-noto-cjk); "
            "the report's Chinese text would print as boxes"
        )
    write_private_bytes(path, weasyprint.HTML(string=html).write_pdf())
