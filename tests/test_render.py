"""How untrusted content meets the page: the Bokeh allow-list, escaping, names, fences, links."""

from __future__ import annotations

import json
import logging

import pytest
from markdown_it import MarkdownIt

from localyst.render import BOKEH_ALLOWED, Refused, escape, fenced, safe_bokeh, safe_rendering, visible

bokeh = pytest.importorskip("bokeh")
from bokeh import models  # noqa: E402
from bokeh.embed import json_item  # noqa: E402
from bokeh.plotting import figure  # noqa: E402

JS = "globalThis.pwned = 1; return tick;"


@pytest.fixture(autouse=True)
def _quiet_bokeh():
    """Bokeh warns that JS callbacks cannot run in Python; these tests know."""
    logging.getLogger("bokeh").setLevel(logging.ERROR)


def item(model) -> dict:
    """What the kernel sends for ``model``: its json_item, through JSON."""
    return json.loads(json.dumps(json_item(model)))


def plot(**options):
    p = figure(width=300, height=200, title="t", tools="pan,wheel_zoom,box_zoom,reset,save,hover", tooltips=[("y", "@y")], **options)
    p.line([1, 2, 3], [1, 4, 9])
    p.vbar(x=[1, 2], top=[3, 4], width=0.5)
    return p


def test_a_plain_plot_is_drawn() -> None:
    root = safe_bokeh(item(plot()))
    assert type(root).__view_model__ == "Figure" and root.document is None


def test_a_figure_with_bokehs_default_tools_is_drawn_and_its_help_goes_to_bokeh() -> None:
    p = figure()
    p.line([1, 2], [3, 4])
    p.select_one(models.HelpTool).redirect = "http://127.0.0.2/?data=secret"
    root = safe_bokeh(item(p))
    assert root.select_one(models.HelpTool).redirect.startswith("https://docs.bokeh.org/")


def refused(model) -> str:
    with pytest.raises(Refused) as caught:
        safe_bokeh(item(model))
    return str(caught.value)


def with_(change):
    p = plot()
    change(p)
    return p


def button_with_js():
    return models.Column(plot(), models.Button(label="x", js_event_callbacks={"button_click": [models.CustomJS(code=JS)]}))


def table_with_html_title():
    source = models.ColumnDataSource({"a": [1]})
    return models.DataTable(source=source, columns=[models.TableColumn(field="a", title="<b>a</b>")])


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda: with_(lambda p: setattr(p.xaxis[0], "formatter", models.CustomJSTickFormatter(code=JS))), "CustomJSTickFormatter"),
        (lambda: with_(lambda p: p.js_on_event("document_ready", models.CustomJS(code=JS))), "JavaScript callbacks"),
        (lambda: with_(lambda p: p.x_range.js_on_change("start", models.CustomJS(code=JS))), "JavaScript callbacks"),
        (lambda: with_(lambda p: setattr(p.xaxis[0], "ticker", models.CustomJSTicker(major_code="return []"))), "CustomJSTicker"),
        (lambda: with_(lambda p: p.add_tools(models.TapTool(callback=models.OpenURL(url="http://127.0.0.2/")))), "OpenURL"),
        (lambda: with_(lambda p: p.add_tools(models.HoverTool(tooltips="<div>@y</div>"))), "HTML template"),
        (lambda: with_(lambda p: p.add_tools(models.HoverTool(tooltips=[("y", "@y{safe}")]))), "as HTML"),
        (lambda: with_(lambda p: p.add_tools(models.HoverTool(formatters={"@y": models.CustomJSHover(code=JS)}))), "CustomJSHover"),
        (lambda: with_(lambda p: p.image_url(url=["http://127.0.0.2/x.png"], x=0, y=0, w=1, h=1)), "ImageURL"),
        (lambda: with_(lambda p: p.add_tile(models.WMTSTileSource(url="http://127.0.0.2/{Z}/{X}/{Y}.png"))), "WMTSTileSource"),
        (lambda: models.Column(models.Div(text="<link rel=preconnect href=http://127.0.0.2/>"), plot()), "Div"),
        (table_with_html_title, "DataTable"),
        (button_with_js, "JavaScript callbacks"),
    ],
)
def test_a_document_that_carries_code_html_or_an_address_is_refused(make, said) -> None:
    assert said in refused(make())


def test_styling_from_the_kernel_is_dropped_and_the_plot_still_draws() -> None:
    sheet = models.ImportedStyleSheet(url="http://127.0.0.2/x.css")
    root = safe_bokeh(item(models.Column(plot(), models.Paragraph(text="x"), stylesheets=[sheet], styles={"position": "fixed"})))
    assert all(not getattr(m, "stylesheets", []) and not getattr(m, "styles", {}) for m in root.references())


def test_panel_components_are_not_drawn() -> None:
    pn = pytest.importorskip("panel")
    assert "HTML" in refused(pn.Column(pn.pane.HTML("<link rel=preconnect href=http://127.0.0.2/>")).get_root())


def test_a_malformed_document_is_refused_not_raised() -> None:
    for bad in ({"doc": {"roots": 5}, "root_id": "x"}, {"doc": {}, "root_id": "p1"}, {"doc": {"roots": [{"type": "object", "name": "NoSuchModel", "id": "p1"}]}, "root_id": "p1"}):
        with pytest.raises(Refused):
            safe_bokeh(bad)


def test_the_allow_list_holds_no_model_that_runs_code_or_fetches() -> None:
    """Every name on the list is a Bokeh model with no code, HTML or URL property."""
    from bokeh.model import Model

    by_name = {cls.__view_model__: cls for cls in Model.model_class_reverse_map.values() if cls.__module__.startswith("bokeh.")}
    for name in BOKEH_ALLOWED:
        cls = by_name[name]  # a Bokeh model (Panel's own of the same name is refused by its module)
        assert not issubclass(cls, models.Callback), name
        if issubclass(cls, models.Markup):
            assert name in ("Paragraph", "PreText"), name  # shown as text, never as HTML
        if issubclass(cls, models.DataSource):
            assert name in ("ColumnDataSource", "CDSView", "GeoJSONDataSource"), name  # data it holds, never fetched
        risky = {"code", "url", "text_html", "redirect", "callback", "tooltips"} & set(cls.properties())
        checked = {"tooltips", "callback"} | ({"redirect"} if name == "HelpTool" else set())  # safe_bokeh checks or resets these
        assert risky <= checked, (name, risky)
        assert not name.startswith("CustomJS") and "HTML" not in name and "URL" not in name, name


def test_escape_and_visible_names() -> None:
    assert escape('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert visible("invoice\u202efdp.exe") == "invoice⟨U+202E⟩fdp.exe"
    assert visible("plain.csv") == "plain.csv"


def test_no_backtick_run_in_the_code_closes_its_fence() -> None:
    code = 'x = """\n````\n[re-enter your key](http://127.0.0.2/)\n````\n"""'
    html = MarkdownIt("commonmark", {"html": False}).render(fenced(code))
    assert html.count("<pre>") == 1 and "<a " not in html and "re-enter your key" in html


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("[a](//127.0.0.2/x)", "https://127.0.0.2/x"),
        ("[a](https://example.org/)", "https://example.org/"),
        ("[a](mailto:a@example.org)", "mailto:a@example.org"),
        ("[a](?base_url=http://127.0.0.2/v1)", None),
        ("[a](javascript:alert(1))", None),
        ("[a](data:text/html,x)", None),
    ],
)
def test_links_go_only_to_outside_addresses_the_hover_shows(text, href) -> None:
    html = MarkdownIt("commonmark", {"html": False}).use(safe_rendering).render(text)
    if href is None:
        assert "<a " not in html
    else:
        assert f'<a href="{href}" target="_blank" rel="noopener noreferrer">' in html


def test_html_from_code_keeps_its_tables_and_styles_and_loses_what_connects() -> None:
    from localyst.render import clean_html

    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_html()
    assert clean_html(table).count("<td>") == table.count("<td>")
    styled = '<style>.x { color: red }</style><div class="x" style="text-align: right">kept</div>'
    assert clean_html(styled) == styled
    w = "http://127.0.0.2:9"
    hostile = (
        f'<link rel="preconnect" href="{w}/a"><iframe src="{w}/b"></iframe><noscript><link rel="preconnect" href="{w}/c"></noscript>'
        f'<svg><foreignObject><link rel="preconnect" href="{w}/d"></foreignObject></svg><math><mtext><link rel="preconnect" href="{w}/e"></mtext></math>'
        f'<meta http-equiv="refresh" content="0;url={w}/f"><object data="{w}/g"></object><embed src="{w}/h"><base href="{w}/">'
        '<b onclick="parent.pwned=1">text stays</b>'
    )
    cleaned = clean_html(hostile)
    assert "127.0.0.2" not in cleaned and "onclick" not in cleaned and "<b>text stays</b>" in cleaned
