"""Which Bokeh documents from the kernel the page draws live: an allow-list of plain plots.

A Bokeh document is data that BokehJS turns into script: a ``CustomJS*`` model is code
the page would run, a ``Div`` or a hover template is HTML it would insert, an image URL
or a tile source is a request. The kernel can put any of these in a figure, and the page
holds the key. So a document is drawn only when every model it holds is of a type on the
list below, which carries no code, no HTML and no address; styling the kernel set
(stylesheets, inline styles) is dropped. Anything else is refused whole, with a reason,
and the output shows as text instead. This was chosen over drawing in a sandboxed frame:
see SECURITY.md (a frame that runs the document's script can still open connections
that no Content-Security-Policy covers).
"""

from __future__ import annotations

from typing import Any

#: Model types a kernel document may hold, by Bokeh's own names (``Model.__view_model__``
#: is how the document's JSON names them too).
ALLOWED = frozenset(
    """
    Figure Plot GridPlot
    LinearAxis LogAxis CategoricalAxis DatetimeAxis MercatorAxis TimedeltaAxis
    AdaptiveTicker BasicTicker BinnedTicker CategoricalTicker CompositeTicker DatetimeTicker DaysTicker
    FixedTicker LogTicker MercatorTicker MonthsTicker SingleIntervalTicker TimedeltaTicker YearsTicker
    BasicTickFormatter CategoricalTickFormatter DatetimeTickFormatter LogTickFormatter MercatorTickFormatter
    NumeralTickFormatter PrintfTickFormatter TimedeltaTickFormatter
    AllLabels NoOverlap Grid
    DataRange1d FactorRange Range1d CategoricalScale CompositeScale LinearScale LogScale
    GlyphRenderer GraphRenderer ContourRenderer RendererGroup
    EdgeCoordinates NodeCoordinates EdgesAndLinkedNodes EdgesOnly NodesAndAdjacentNodes NodesAndLinkedEdges
    NodesOnly StaticLayoutProvider
    AnnularWedge Annulus Arc Bezier Block Circle Ellipse HArea HAreaStep HBar HSpan HStrip HexTile Image
    ImageRGBA ImageStack Line MultiLine MultiPolygons Ngon Patch Patches Quad Quadratic Ray Rect Scatter
    Segment Step Text VArea VAreaStep VBar VSpan VStrip Wedge
    ColumnDataSource CDSView GeoJSONDataSource
    AllIndices BooleanFilter DifferenceFilter GroupFilter IndexFilter IntersectionFilter InversionFilter
    SymmetricDifferenceFilter UnionFilter
    Selection UnionRenderers IntersectRenderers
    CategoricalColorMapper CategoricalMarkerMapper CategoricalPatternMapper EqHistColorMapper
    LinearColorMapper LogColorMapper WeightedStackColorMapper
    Dodge Jitter LinearInterpolator StepInterpolator CumSum PolarTransform Stack
    Arrow NormalHead OpenHead TeeHead VeeHead Band BoxAnnotation BoxInteractionHandles AreaVisuals
    PolyAnnotation Slope Span Whisker Label LabelSet Title ColorBar ContourColorBar Legend LegendItem
    ScaleBar Metric MetricLength ImperialLength ReciprocalMetric ReciprocalMetricLength Angular
    Toolbar ToolProxy GroupByModels GroupByName PanTool WheelZoomTool WheelPanTool BoxZoomTool ZoomInTool
    ZoomOutTool ResetTool SaveTool CopyTool FullscreenTool UndoTool RedoTool CrosshairTool HoverTool HelpTool
    BoxSelectTool LassoSelectTool PolySelectTool TapTool RangeTool BoxEditTool FreehandDrawTool
    LineEditTool PointDrawTool PolyDrawTool PolyEditTool ClickPanTool
    PlainText BuiltinIcon TablerIcon
    Column Row GridBox Spacer TabPanel Tabs FlexBox HBox VBox ScrollBox GroupBox
    Paragraph PreText Button Toggle Slider RangeSlider DateSlider DateRangeSlider Select CheckboxGroup
    RadioGroup CheckboxButtonGroup RadioButtonGroup TextInput Spinner NumericInput Switch Checkbox
    """.split()
)

#: Properties through which a kernel document could style or reach past its own box.
DROPPED = {"stylesheets": [], "styles": {}, "css_variables": {}}


class Refused(ValueError):
    """A Bokeh document the page does not draw; the message says why, for the person."""


def _name(model: Any) -> str:
    return type(model).__view_model__


def _module(model: Any) -> str:
    return type(model).__module__.partition(".")[0]


def _check_tooltips(model: Any) -> None:
    """A hover tool's tooltips as a string (or a DOM model) are an HTML template, and a
    ``{safe}`` field puts a value in as HTML: only (label, field) pairs of plain text pass."""
    tooltips = model.tooltips
    if tooltips is None:
        return
    if isinstance(tooltips, str) or not all(isinstance(pair, (tuple, list)) and len(pair) == 2 for pair in tooltips):
        raise Refused("its hover tool shows an HTML template")
    if any(not isinstance(part, str) or "safe}" in part for pair in tooltips for part in pair):
        raise Refused("its hover tool puts data into the page as HTML")


def safe_bokeh(item: dict[str, Any]) -> Any:
    """The root model of a kernel's ``json_item``, detached from its document and cleared
    of styling, if everything it refers to is on the allow-list; else ``Refused``."""
    from bokeh.document import Document

    try:
        document = Document.from_json(item["doc"])
        root = document.get_model_by_id(item["root_id"])
    except Exception as exc:  # any malformed document: Bokeh raises many kinds
        raise Refused(f"it is not a Bokeh document this page reads ({type(exc).__name__})") from None
    if root is None or root not in document.roots:
        raise Refused("its root is not in the document")
    document.remove_root(root)
    for model in root.references():
        for name, empty in DROPPED.items():
            if name in model.properties():
                setattr(model, name, type(empty)())
        if model.js_event_callbacks or model.js_property_callbacks:
            raise Refused("it carries JavaScript callbacks")
    refused = sorted({_name(m) for m in root.references() if _name(m) not in ALLOWED or _module(m) != "bokeh"})
    if refused:
        raise Refused(f"it holds {', '.join(refused[:6])}, which can carry code, HTML or addresses")
    for model in root.references():
        if _name(model) == "HoverTool":
            _check_tooltips(model)
        elif _name(model) == "SaveTool":
            model.filename = None
        elif _name(model) == "HelpTool":  # a click opens its address: Bokeh's own help, not the kernel's choice
            model.redirect = type(model)().redirect
    return root
