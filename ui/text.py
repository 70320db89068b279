"""Text from an upload (file, column, regimen, center and sheet names, values in messages), made inert
for Streamlit's markdown.

Streamlit renders markdown in ``st.markdown``/``st.caption``/``st.write``, the alerts, titles and
headers, and in labels and ``help=`` tooltips. A regimen called ``![x](http://host/a.png)`` would make
every viewer's browser fetch an image from that host, ``[x](javascript:…)`` would be a link, ``$x$``
LaTeX, and a file name could restyle the text around it. :func:`md` is the one escape every page uses
for such text (``tests/test_app_escaping.py`` checks every page with hostile names).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd

# Markdown (CommonMark + GFM), Streamlit's directives (":red[…]", ":material/…:"), math ("$") and HTML ("<", and "&"
# of entities). CommonMark lets any ASCII punctuation be backslash-escaped; the backslash itself is escaped
# too, so a backslash in the data cannot undo the escape after it.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")
_BREAKS = re.compile(r"[\r\n\t\f\v\u2028\u2029]+")  # a line break could start a heading, list or table


def md(value: object) -> str:
    """``value`` as text that Streamlit's markdown shows literally: every markdown, directive, math
    and HTML character backslash-escaped (so no link, image, emphasis or tag survives) and line
    breaks made spaces. Use it on any data-derived string inside a markdown context, never on app text."""
    return _SPECIAL.sub(r"\\\1", _BREAKS.sub(" ", str(value)))


def mds(values, sep: str = ", ") -> str:
    """``values`` escaped with :func:`md` and joined by ``sep`` (e.g. a list of column or regimen names)."""
    return sep.join(md(v) for v in values)


def map_text(frame: pd.DataFrame, convert: Callable[[str], str]) -> pd.DataFrame:
    """A copy of ``frame`` with ``convert`` applied to every text cell, header and index label
    (numbers and missing values unchanged)."""
    def cell(value):
        return convert(value) if isinstance(value, str) else value

    def label(value):  # a MultiIndex label is a tuple: each of its parts is rendered as markdown too
        return tuple(cell(v) for v in value) if isinstance(value, tuple) else cell(value)

    out = frame.map(cell)
    out.index = out.index.map(label)
    out.columns = out.columns.map(label)
    return out


def md_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` for ``st.table``, which renders each text cell, header and index label as
    markdown: every text escaped with :func:`md`."""
    return map_text(frame, md)
