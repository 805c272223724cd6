"""click's own words in Vietnamese. click says everything it prints (usage, headings,
"[required]", its error messages) through the standard library's gettext.gettext and
ngettext, in the current default domain; the catalogue pipeline/locale/vi/LC_MESSAGES/treem.po
translates them, compiled to treem.mo by tools/msgfmt.py (a test holds the two equal)."""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "treem"


def speak_vietnamese() -> None:
    """Make click speak Vietnamese for the rest of the process; idempotent.

    gettext finds a catalogue by the environment (LANGUAGE first, then LC_ALL, LC_MESSAGES,
    LANG) at each message, so LANGUAGE=vi picks treem.mo whatever the officer's Windows or
    Linux is set to. Setting it for the whole process is safe: treem speaks only Vietnamese;
    LANGUAGE is read by gettext message lookups alone, never by number, date or encoding
    handling (those are LC_* and the code's own); the domain holds only click's messages, so
    another library's gettext lookup falls back to its own text; and the one child process,
    LibreOffice converting a report to PDF, runs headless and shows the officer nothing."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = "vi"
