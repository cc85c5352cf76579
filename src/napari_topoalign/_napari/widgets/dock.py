"""The combined TopoAlign dock widget: the four tabs over one session model and its view.

``session`` is the Qt-free :class:`napari_topoalign.session.Session`; ``view`` the
``SessionView`` drawing it in the viewer; the tabs bind to both.
"""

from __future__ import annotations

import functools
import threading

from qtpy.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from ..layers import glyph_steps, text_font
from .align import AlignWidget, pipeline_process, run_in_slices
from .load import LoadWidget
from .mapper import MapperWidget
from .regions import RegionsWidget
from ...session import Session
from .session import SessionView


class TopoAlignWidget(QWidget):
    """The TopoAlign dock widget: Load, Mapper, Align and Regions & motifs as tabs over one session."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.session = Session()
        self.view = SessionView(napari_viewer, self.session)
        self.mapper = MapperWidget(self.session, self.view)  # before Load: shows the settings a sample brings
        self.load = LoadWidget(self.session, self.view)
        self.align = AlignWidget(self.session, self.view)
        self.regions = RegionsWidget(self.session, self.view)
        self.tabs = QTabWidget()
        for w, name in ((self.load, "Load"), (self.mapper, "Mapper"), (self.align, "Align"),
                        (self.regions, "Regions && motifs")):
            self.tabs.addTab(w, name)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs)
        self.session.events.alignment.connect(lambda: self.tabs.setCurrentWidget(self.regions))
        load_units()
        quick_shader_parsing()
        self.warm_up = warm_up_pipeline()
        # the text glyphs of the first drawing (~1 s of the Qt thread) are rendered while the user
        # loads data, in short slices; the first Align renders those still missing
        self.glyphs = run_in_slices(glyph_steps(text_font(napari_viewer)), self)


@functools.cache
def warm_up_pipeline() -> threading.Thread:
    """The thread warming up the pipeline in the background, started by the first dock of the
    process (while the user loads data): it waits for ``pipeline_process()``'s warm-up, or runs
    ``pipeline.warm_up`` here without one, and prepares a drawing of the result. The first Align
    otherwise imported ~600 modules on its way, which held the GIL and the import lock for up to
    0.3 s at a time while the GUI drew."""

    def warm_up() -> None:
        from ...errors import TopoAlignError
        from ...pipeline import warm_up
        from ..layers import prepare

        try:
            process = pipeline_process()
        except TopoAlignError:  # a wrong TOPOALIGN_WORKER: Align says so
            return
        alignment = warm_up() if process is None else process.ready()
        if alignment is not None:
            prepare(alignment, 1.0, None)

    thread = threading.Thread(target=warm_up, name="topoalign warm-up", daemon=True)
    thread.start()
    return thread


def load_units() -> None:
    """Load the unit registry (pint) that napari's transforms use: napari loads it lazily, ~0.3 s,
    the first time a layer is sliced with a new transform, which in a new session was in the middle
    of the first alignment's drawing. Here it is part of opening the dock."""
    import pint

    pint.get_application_registry().pixel  # noqa: B018 (the attribute access loads the registry)


class _QuickShaderParsing:
    """vispy's ``gloo.program`` module's ``re``, with two of its uses made fast, same results:

    - the substitution that strips ``//`` comments from shader code is done line by line (each line
      up to its last ``//``). As a regular expression, ``(.*)(//.*)``, it backtracks over every
      line from every position: ~16 ms a GL program, a third of each new layer's first paint;
    - the searches for declarations (``variable_patterns``: vispy's ``REGEX_VAR``, each starting
      with ``\\s*`` and a keyword) run without that leading ``\\s*``: they find the same
      declarations with the same groups (only the whitespace before is no longer part of a
      match), and the search skips to the keyword instead of trying the pattern at every position
      (~3 ms → 0.25 ms a program).
    """

    PATTERN = r"(.*)(//.*)"
    LEADING_SPACE = r"\s*"

    def __init__(self, re_module, variable_patterns=()):
        self._re = re_module
        self._quick = {pattern: re_module.compile(pattern.pattern[len(self.LEADING_SPACE):], pattern.flags)
                       for pattern in variable_patterns if _keyword_after(pattern.pattern, self.LEADING_SPACE)}

    def __getattr__(self, name):
        return getattr(self._re, name)

    def sub(self, pattern, repl, string, count=0, flags=0):
        if pattern == self.PATTERN and repl == r"\1" and flags == self._re.M and not count:
            return "\n".join(line[: line.rfind("//")] if "//" in line else line for line in string.split("\n"))
        return self._re.sub(pattern, repl, string, count=count, flags=flags)

    def finditer(self, pattern, string, flags=0):
        quick = self._quick.get(pattern) if not flags and isinstance(pattern, self._re.Pattern) else None
        return self._re.finditer(quick or pattern, string, flags)


def _keyword_after(pattern: str, prefix: str) -> bool:
    """``pattern`` is ``prefix`` followed by a plain word (a keyword the search can skip to)."""
    return pattern.startswith(prefix) and pattern[len(prefix):len(prefix) + 1].isalpha()


def quick_shader_parsing() -> None:
    """Give vispy's shader parsing (``Program._parse_variables_from_code``) ``_QuickShaderParsing``,
    where it still strips comments with that expression (a later vispy may not)."""
    from vispy.gloo import program

    parse = getattr(program.Program, "_parse_variables_from_code", None)
    if parse is not None and _QuickShaderParsing.PATTERN in parse.__code__.co_consts \
            and not isinstance(program.re, _QuickShaderParsing):
        program.re = _QuickShaderParsing(program.re, getattr(program, "REGEX_VAR", {}).values())
