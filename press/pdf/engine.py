"""Stage 5a, load the typesetter: WeasyPrint, or W003 when a system library it needs is missing.

WeasyPrint opens Pango, GObject, HarfBuzz and Fontconfig through cffi the moment it is
imported. Without them the import fails with an OSError, after WeasyPrint has printed
a banner of its own, deep inside a traceback that says nothing about which package
to install. A build turns that into one problem that names the packages.
"""
from __future__ import annotations

import contextlib
import io
import re
import sys

from press.problems import BuildError, Problem

# The libraries WeasyPrint opens at import (the names it tries first, as its error shows).
NATIVE = ("gobject", "pango", "pangoft2", "harfbuzz", "fontconfig")
DEBIAN = "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
_NAMED = re.compile(r"cannot load library '((?:lib)?(?:%s)[^']*)'" % "|".join(NATIVE))


def missing_library(error: OSError) -> str | None:
    """The system library that loading WeasyPrint could not find, if the error names one."""
    found = _NAMED.search(str(error))
    return found.group(1) if found else None


def library_problem(library: str) -> Problem:
    return Problem("print document", None, "W003",
                   f"WeasyPrint cannot load {library}: Pango is not installed",
                   f"install Pango 1.44+: on Debian or Ubuntu "
                   f"`apt-get install {DEBIAN}` (./book names every system package needed)")


def load_weasyprint():
    """Import WeasyPrint; raise BuildError W003 when Pango or a library it needs is missing."""
    if "weasyprint" not in sys.modules and sys.platform.startswith("linux"):
        try:
            return _import_by_soname()
        except OSError:
            for name in [n for n in sys.modules if n.split(".")[0] == "weasyprint"]:
                del sys.modules[name]  # then the ordinary way, which says what is missing
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # WeasyPrint's banner before it fails
            import weasyprint
    except OSError as error:
        library = missing_library(error)
        if library is None:
            raise
        raise BuildError([library_problem(library)]) from None
    return weasyprint


@contextlib.contextmanager
def _no_library_search():
    """ctypes.util.find_library answering "not found" at once.

    WeasyPrint tries several names for each library; cffi looks up each name that does
    not load as given with find_library, which runs ldconfig, gcc and ld: 54 processes
    and about 0.2 s of CPU per import. On Linux the soname (libpango-1.0.so.0) is among
    the names tried and loads as it is, without any search.
    """
    import ctypes.util

    real = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = real


def _import_by_soname():
    with _no_library_search(), contextlib.redirect_stdout(io.StringIO()):
        import weasyprint
    return weasyprint
