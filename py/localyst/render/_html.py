"""HTML that code produced (``_repr_html_``, ``DataFrame.to_html``), cleaned before it is
shown in its sandboxed frame.

The frame runs no script and its policy refuses every fetch, yet in Chromium 156 some
elements still open a connection to the host they name with no click:
``<link rel="preconnect">`` (also inside ``<svg><foreignObject>``, ``<math><mtext>`` or
``<noscript>``, which a frame without script parses as markup) and an ``<iframe src>`` that
the policy then blocks. A host name carries data out through DNS. So only a list of
formatting elements and attributes passes (bleach, with html5lib parsing as a browser
does); everything else is dropped, its text kept. Inline CSS is kept as written: the
frame's policy stops every ``url()`` in it without a connection.
"""

from __future__ import annotations

TAGS = frozenset(
    """a abbr b bdi bdo blockquote br caption cite code col colgroup dd del details dfn div dl dt em
    figcaption figure h1 h2 h3 h4 h5 h6 hr i img input ins kbd label li mark ol p pre q s samp small
    span strong style sub summary sup table tbody td tfoot th thead time tr u ul var wbr""".split()
)
ATTRIBUTES = {
    "*": ["class", "id", "style", "title", "dir", "lang", "align", "valign", "width", "height"],
    "a": ["href"],
    "img": ["src", "alt"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan", "scope"],
    "col": ["span"],
    "colgroup": ["span"],
    "table": ["border", "cellpadding", "cellspacing"],
    "input": ["type", "checked", "disabled"],
    "label": ["for"],
    "details": ["open"],
    "ol": ["start"],
}
PROTOCOLS = frozenset({"http", "https", "mailto", "data"})


class _CSSAsWritten:
    """bleach empties ``style`` attributes unless given a CSS sanitizer; the frame's
    policy is the guard for CSS, so it passes as written."""

    def sanitize_css(self, style: str) -> str:
        return style


def clean_html(markup: str) -> str:
    """``markup`` with only the elements and attributes above (the rest dropped, text kept)."""
    from bleach.sanitizer import Cleaner

    cleaner = Cleaner(
        tags=TAGS,
        attributes=ATTRIBUTES,
        protocols=PROTOCOLS,
        strip=True,
        strip_comments=True,
        css_sanitizer=_CSSAsWritten(),
    )
    return cleaner.clean(markup)
