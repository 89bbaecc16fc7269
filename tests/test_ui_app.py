"""The Panel app's own logic, in CPython: what goes to the model, what the link may set."""

from __future__ import annotations

import pytest

pn = pytest.importorskip("panel")

from localyst.ui.app import LocalystApp  # noqa: E402
from localyst.ui._settings import CUSTOM, preset_for  # noqa: E402




def test_a_turn_renders_text_code_outputs_and_what_was_sent():
    from localyst.agent import AssistantText, CodeDelta, CodeFinished, CodeStarted, KernelOutput, RequestSent, UsageReport
    from localyst.ui._turn import TurnView

    view = TurnView()
    view.handle(RequestSent(1, [{"role": "user", "content": "sum it"}], None))
    view.handle(AssistantText("Let me "))
    view.handle(AssistantText("compute."))
    view.handle(CodeDelta("c1", "print(1"))
    view.handle(CodeStarted("c1", "print(1+1)"))
    view.handle(KernelOutput("c1", {"kind": "stream", "name": "stdout", "text": "2\n"}))
    view.handle(KernelOutput("c1", {"kind": "stream", "name": "stdout", "text": "3\n"}))
    table = {"columns": ["a"], "dtypes": ["int64"], "index": [0, 1], "index_name": None, "rows": [[1], [2]], "shape": [2, 1], "truncated": False}
    view.handle(KernelOutput("c1", {"kind": "display", "data": {"application/vnd.localyst.table+json": table, "text/plain": "a"}, "metadata": {}}))
    view.handle(CodeFinished("c1", {"error": None, "duration": 0.5, "files": [], "outputs": []}))
    view.handle(UsageReport(10, 5, 15))
    text, cell = view.body.objects
    assert text.object == "Let me compute."
    code, _actions, status, outputs = cell.objects
    assert "print(1+1)" in code.object
    assert "ran in 0.50 s" in status.object
    stream, tabular = outputs.objects  # the two chunks of stdout share one block
    assert "2\n3\n" in stream.object
    assert isinstance(tabular.objects[0], pn.widgets.Tabulator)
    assert list(tabular.objects[0].value["a"]) == [1, 2]
    assert "15" not in view.usage.object and "10 sent" in view.usage.object
    assert view.sent.card.visible and view.sent.card.title == "Sent to the model (1 request)"
    assert view.sent.content.object == "", "the requests are rendered before anyone opens them"
    view.sent.card.collapsed = False
    assert "sum it" in view.sent.content.object and "Request 1" in view.sent.content.object
    view.handle(RequestSent(2, [{"role": "user", "content": "and <b>more</b>"}], None))
    assert "and &lt;b&gt;more&lt;/b&gt;" in view.sent.content.object and view.sent.card.title.endswith("(2 requests)")


def test_link_presets_endpoint_and_model_but_not_the_key():
    app = LocalystApp("?base_url=http%3A%2F%2F127.0.0.1%3A9%2Fv1&model=m1&api_key=sk-secret")
    endpoint = app.settings.endpoint()
    assert endpoint.base_url == "http://127.0.0.1:9/v1"
    assert endpoint.model == "m1"
    assert endpoint.api_key == ""
    assert "ignored" in app.settings.status.object
    assert app.settings.preset.value == CUSTOM


def test_preset_is_recognised_from_its_base_url():
    assert preset_for("http://localhost:11434/v1/") == "Ollama"
    assert preset_for("https://api.openai.com/v1") == "OpenAI"
    assert preset_for("https://example.test/v1") == CUSTOM


def test_choosing_a_preset_fills_the_base_url():
    app = LocalystApp()
    app.settings.preset.value = "Groq"
    assert app.settings.base_url.value == "https://api.groq.com/openai/v1"


def test_a_request_without_a_model_says_what_is_missing():
    app = LocalystApp("?base_url=http%3A%2F%2F127.0.0.1%3A9%2Fv1")
    problem = app.settings.missing(app.settings.endpoint())
    assert "No model chosen" in problem


@pytest.mark.parametrize(
    ("given", "kept"),
    [("sales.csv", "sales.csv"), ("../../etc/passwd", "passwd"), ("..\\..\\x\\y.csv", "y.csv"), ("..", ""), (".bashrc", "bashrc")],
)
def test_added_files_keep_only_a_bare_name(given, kept):
    from localyst.ui._files import safe_name

    assert safe_name(given) == kept


def test_interpreter_settings_reach_the_agent():
    app = LocalystApp("?base_url=http%3A%2F%2F127.0.0.1%3A9%2Fv1&model=m")
    app.behaviour.max_steps.value = 3
    app.behaviour.mode.value = app.behaviour.mode.options[1]
    app.behaviour.images.value = True

    def agent():
        return app.agents.agent(app.settings.endpoint(), app.behaviour.options(), app._approve)

    first = agent()
    assert first.limits.max_steps == 3
    assert first.mode == "fenced"
    assert first.send_images is True
    assert agent() is first
    app.behaviour.max_steps.value = 4
    assert agent() is not first


def _html_of(component) -> str:
    """Every HTML, Markdown and text a component tree shows, joined (its widgets' names too)."""
    parts = []
    for obj in component.select(lambda c: isinstance(c, (pn.pane.HTML, pn.pane.Markdown, pn.widgets.Button))):
        parts.append(str(getattr(obj, "object", None) or getattr(obj, "name", "")))
    return "\n".join(parts)


def test_kernel_text_in_a_cell_is_escaped_and_a_bad_result_keeps_the_turn():
    """A forged exception name, a malformed output and a result of the wrong shape: each is
    shown as text and the turn goes on (this is also how a stored conversation is drawn)."""
    from localyst.agent import CodeFinished, CodeStarted, KernelOutput
    from localyst.ui._turn import TurnView

    link = '<link rel="preconnect" href="http://127.0.0.2:9/">'
    view = TurnView(download=lambda path: None)
    view.handle(CodeStarted("c1", "raise X"))
    view.handle(KernelOutput("c1", {"kind": "display", "data": {"application/vnd.localyst.table+json": {"shape": [link, 1]}}}))
    view.handle(KernelOutput("c1", {"kind": "display", "data": {"image/png": f'x">{link}'}}))
    view.handle(KernelOutput("c1", "not an output"))
    view.handle(CodeFinished("c1", {"error": {"ename": link, "evalue": "", "traceback": link}, "duration": 0.1, "files": [], "outputs": []}))
    view.handle(CodeStarted("c2", "1"))
    view.handle(CodeFinished("c2", {"outputs": "<b>", "files": [{"path": link}]}))
    shown = _html_of(view.panel)
    assert "<link" not in shown and "&lt;link" in shown
    assert shown.count("could not be shown") == 3 and "BadResult" in shown


def test_a_bokeh_output_with_code_shows_why_it_is_not_drawn():
    import json
    import logging

    from bokeh.embed import json_item
    from bokeh.models import CustomJSTickFormatter
    from bokeh.plotting import figure

    from localyst.ui import _outputs

    logging.getLogger("bokeh").setLevel(logging.ERROR)
    plot = figure()
    plot.line([1, 2], [3, 4])
    plot.xaxis.formatter = CustomJSTickFormatter(code="globalThis.pwned = 1; return tick")
    item = json.loads(json.dumps(json_item(plot)))
    shown = _outputs.output({"kind": "result", "data": {"text/plain": "figure(...)", "application/vnd.localyst.bokeh+json": item}})
    assert not shown.select(pn.pane.Bokeh) and "This plot is not drawn" in _html_of(shown)


def test_the_model_is_told_when_code_may_use_the_internet():
    from localyst.agent._prompt import system_prompt

    app = LocalystApp()
    assert "no network access" in system_prompt(app.session.environment(), "tools")
    app.kernel.script = "kernel-worker.js?internet=1"  # what allow_internet(True) sets
    told = system_prompt(app.session.environment(), "tools")
    assert "may use the network" in told and "no network access" not in told


def test_local_presets_say_how_to_start_each_server_with_this_page_allowed():
    from localyst.ui._settings import SettingsPanel

    settings = SettingsPanel("", origin="https://me.example.test")
    assert settings.start_hint.visible is False  # OpenAI: nothing to start
    settings.preset.value = "Ollama"
    assert "OLLAMA_ORIGINS=https://me.example.test ollama serve" in settings.start_hint.object
    assert settings.start_hint.visible and settings.base_url.value == "http://localhost:11434/v1"
    settings.preset.value = "LM Studio"
    assert "Enable CORS" in settings.start_hint.object and settings.base_url.value == "http://localhost:1234/v1"
    settings.preset.value = "llama.cpp"
    assert "llama-server" in settings.start_hint.object and "--jinja" in settings.start_hint.object
    assert settings.base_url.value == "http://localhost:8080/v1"
    assert preset_for("http://localhost:8080/v1") == "llama.cpp"
    settings.preset.value = "Groq"
    assert settings.start_hint.visible is False


def test_the_temperature_setting_reaches_the_agent_and_is_kept():
    from localyst.ui._behaviour import TEMPERATURE, BehaviourPanel

    app = LocalystApp("?base_url=http://127.0.0.1:9/v1&model=m")
    assert app.agents.agent(app.settings.endpoint(), app.behaviour.options(), app._approve).temperature == TEMPERATURE < 0.5
    app.behaviour.temperature.value = 0.7
    assert app.agents.agent(app.settings.endpoint(), app.behaviour.options(), app._approve).temperature == 0.7
    fresh = BehaviourPanel()
    fresh.restore(app.behaviour.remembered())
    assert fresh.temperature.value == 0.7


def test_behaviour_settings_are_kept_by_key_and_old_labels_still_read():
    from localyst.ui._behaviour import BehaviourPanel

    panel = BehaviourPanel()
    panel.max_steps.value = 9
    kept = panel.remembered()
    assert kept["max_steps"] == 9 and "Steps per turn" not in kept  # a reworded label loses nothing
    fresh = BehaviourPanel()
    fresh.restore({"Steps per turn": 7, "Confirm each cell before it runs": True})  # kept by an older version
    assert fresh.max_steps.value == 7 and fresh.confirm.value is True
    fresh.restore(kept)
    assert fresh.max_steps.value == 9


def test_conversation_search_reads_the_words_not_the_images():
    from localyst.agent import AssistantText, CodeFinished, CodeStarted
    import asyncio

    import param

    from localyst.transcript import Transcript, readable_text
    from localyst.ui._conversations import ConversationList

    async def nothing(*_args):
        return None

    transcript = Transcript()
    transcript.add_user("plot the sales")
    transcript.apply(CodeStarted("c1", "df.plot()"))
    image = {"kind": "display", "data": {"image/png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJ", "text/plain": "<Figure>"}, "metadata": {}}
    transcript.apply(CodeFinished("c1", {"execution_count": 1, "outputs": [image], "error": None, "duration": 0.1, "files": []}))
    transcript.apply(AssistantText("Sales peak in March."))
    record = {"id": "a", "title": "Sales", "updated": 1.0, "transcript": transcript.to_json()}
    read = []

    async def words(record) -> str:  # as the keeper reads a stored conversation
        read.append(record["id"])
        return readable_text([record["transcript"]])

    conversations = ConversationList(nothing, nothing, nothing, nothing, nothing, words)
    conversations.show([record], "")

    def found(query: str) -> int:
        with param.discard_events(conversations.search):
            conversations.search.value_input = query
        asyncio.run(conversations._on_search(None))
        return sum(isinstance(row, pn.Column) for row in conversations.rows.objects)

    assert found("march") == 1 and found("df.plot") == 1 and found("sales") == 1
    assert found("gkgo") == 0 and found("AAAA") == 0  # inside the image's base64
    assert read == ["a"], "the stored conversation is read once per version, not per keystroke"


def test_background_work_is_held_until_it_ends_and_a_failure_is_logged(caplog):
    import asyncio
    import gc

    from localyst.ui._tasks import background

    done = []

    async def slow():
        await asyncio.sleep(0.05)
        done.append(True)

    async def broken():
        raise RuntimeError("the save failed")

    async def go():
        background(slow())  # nobody holds the task
        background(broken())
        gc.collect()
        await asyncio.sleep(0.1)

    asyncio.run(go())
    assert done == [True]
    assert "background work failed" in caplog.text and "the save failed" in caplog.text


def test_a_stored_conversation_draws_its_last_turns_and_the_earlier_ones_as_the_person_scrolls_up():
    """The chat is a virtualised feed: a stored conversation opens with its last turns, the
    earlier ones come in as the person scrolls to the top, and an answer scrolled far away
    leaves the Panel tree (which every change of the page walks), drawn again from the record."""
    from bokeh.document import Document
    from panel.util import edit_readonly

    from localyst.agent import AssistantText, CodeFinished, CodeStarted
    from localyst.session import Conversation
    from localyst.transcript import Transcript
    from localyst.ui._turn import Deferred
    from localyst.ui.app import EARLIER_AT_ONCE, LocalystApp

    LIVE_MESSAGES = 4  # a small feed buffer, so that twelve turns reach past it

    transcript = Transcript()
    for number in range(1, 13):
        transcript.add_user(f"question {number}")
        transcript.apply(CodeStarted(f"cell-{number}", f"print({number})"))
        transcript.apply(CodeFinished(f"cell-{number}", {"execution_count": number, "outputs": [], "error": None, "duration": 0.1, "files": []}))
        transcript.apply(AssistantText(f"answer number {number}"))
    app = LocalystApp("")
    app.chat.load_buffer = LIVE_MESSAGES
    app.show_conversation(Conversation(app.kernel, transcript, []))
    app.chat.get_root(Document())  # the page draws the chat
    feed = app.chat._chat_log

    def drawn() -> dict[str, int]:
        """The answers that hold their Panel objects, by their text: their index in the feed."""
        return {
            str(message.object.select(pn.pane.Markdown)[-1].object): index
            for index, message in enumerate(feed.objects)
            if isinstance(message.object, Deferred) and message.object.objects
        }

    def scroll_to(first: int, last: int) -> None:
        with edit_readonly(feed):
            feed.visible_range = (first, last)

    assert len(feed.objects) == 1 + 2 * EARLIER_AT_ONCE, "more turns than the last ones were made"
    assert "8 earlier turns" in feed.objects[0].object
    assert set(drawn()) == {f"answer number {n}" for n in range(13 - LIVE_MESSAGES, 13)}
    scroll_to(0, 2)  # the page reports a place above the latest before it showed the latest
    assert len(feed.objects) == 1 + 2 * EARLIER_AT_ONCE, "earlier turns came in while the chat went to the latest"
    scroll_to(len(feed.objects) - 3, len(feed.objects))  # the feed's own guess while it scrolls
    scroll_to(0, 2)  # the page still shows a place above
    assert len(feed.objects) == 1 + 2 * EARLIER_AT_ONCE, "the feed's guess was taken for the page's word"
    scroll_to(len(feed.objects) - 3, len(feed.objects) - 1)  # the page shows the latest
    scroll_to(0, 2)  # now the person scrolls to the top
    assert len(feed.objects) == 1 + 4 * EARLIER_AT_ONCE and "4 earlier turns" in feed.objects[0].object
    assert feed.visible_range == (2 * EARLIER_AT_ONCE, 2 + 2 * EARLIER_AT_ONCE), "the turns the person saw moved"
    assert "answer number 6" in drawn(), "an answer near the screen was not drawn from the record"
    scroll_to(0, 2)
    assert len(feed.objects) == 1 + 24 and "Welcome" in feed.objects[0].object
    scroll_to(0, 2)  # all turns are in: the top is the first of them
    assert "answer number 1" in drawn() and "answer number 11" not in drawn(), "an answer far from the screen is still held"
    assert drawn()["answer number 12"] == len(feed.objects) - 1  # the last stays: replacing it would scroll to it
    size = len(app.chat.select())
    scroll_to(len(feed.objects) - 3, len(feed.objects) - 1)  # back to the latest
    assert "answer number 11" in drawn() and "answer number 1" not in drawn()
    assert len(app.chat.select()) <= size + 10


def test_the_feed_finds_the_messages_the_page_shows_by_their_models():
    """The page reports the models on screen. Panel 1.8's Feed maps them against the range
    it would draw now, not the one it drew; these differ after a scroll to the latest (it
    draws with a buffer of one), and the report then lands on earlier messages."""
    from bokeh.document import Document
    from panel.util import edit_readonly

    app = LocalystApp("")
    feed = app.chat._chat_log
    app.chat.load_buffer = feed.load_buffer = 4
    for number in range(29):
        app.chat.send(f"message {number}", user="You", respond=False)
    root = app.chat.get_root(Document())
    ref = root.ref["id"]

    def report(*indexes: int) -> None:
        feed._process_events({"visible_children": [feed.objects[i]._models[ref][0].ref["id"] for i in indexes]})

    with edit_readonly(feed):
        feed.visible_range = (10, 12)
    report(11, 13)
    assert feed.visible_range == (11, 13)
    feed.scroll_to_latest()
    report(28, 29)  # the page shows the last two
    assert feed.visible_range == (28, 29), "the report was mapped onto other messages"
    report(29)
    assert feed.visible_range == (25, 29)


def test_a_save_writes_the_record_and_the_last_part_not_the_whole_conversation():
    import asyncio

    from localyst.agent import AssistantText
    from localyst.ui.app import LocalystApp

    class RecordingStore:
        def __init__(self) -> None:
            self.saves: list[tuple[dict, dict]] = []

        async def save_conversation(self, record, parts) -> None:
            self.saves.append((record, parts))

    app = LocalystApp("")
    store = app.keeper.keeping.store = RecordingStore()

    def turn(number: int) -> None:
        app.session.ask(f"question {number}")
        app.session.transcript.apply(AssistantText(f"answer {number}"))
        app.session.history.append({"role": "assistant", "content": f"answer {number}"})
        asyncio.run(app.keeper.save())

    for number in range(1, 4):
        turn(number)
    asyncio.run(app.keeper.save())  # nothing changed: nothing written
    written = [sorted(parts) for _record, parts in store.saves]
    assert written == [[0], [0, 1], [1, 2]], "a save wrote parts that had not changed"
    record, parts = store.saves[-1]
    assert record["parts"] == 3 and "transcript" not in record and record["title"] == "question 1"
    assert "question 3" in parts[2].transcript and "question 2" not in parts[2].transcript


def test_no_message_holds_a_reactive_html_component():
    """Panel renders ReactiveHTML with a template cache that never lets a view go (its chat
    messages' copy icon kept every message ever drawn in the page's heap)."""
    from panel.reactive import ReactiveHTML

    app = LocalystApp("")
    app.chat.send("a question", user="You", respond=False)
    app.chat.stream("an answer", user="Assistant")
    assert len(app.chat.objects) == 3
    for message in app.chat.objects:
        assert not message.select(ReactiveHTML), f"{type(message).__name__} holds ReactiveHTML"


def test_the_figures_setting_reaches_the_agent_and_is_kept():
    from localyst.ui._behaviour import BehaviourPanel

    app = LocalystApp("?base_url=http://127.0.0.1:9/v1&model=m")
    assert app.agents.agent(app.settings.endpoint(), app.behaviour.options(), app._approve).check_figures is True
    app.behaviour.figures.value = False
    assert app.agents.agent(app.settings.endpoint(), app.behaviour.options(), app._approve).check_figures is False
    fresh = BehaviourPanel()
    fresh.restore(app.behaviour.remembered())
    assert fresh.figures.value is False


def _stored_with_figures():
    """Two turns: the first computes 12345, the second answers with it, 0.4567 as a percent,
    and a figure no code computed; the answer also carries HTML, and the code quotes."""
    from localyst.agent import AssistantText, CodeFinished, CodeStarted, KernelOutput
    from localyst.transcript import Transcript

    transcript = Transcript()
    transcript.add_user("What is the total?")
    transcript.apply(CodeStarted("cell-1-0", 'total = 12000 + 345\nprint(total, "<b>")'))
    transcript.apply(KernelOutput("cell-1-0", {"kind": "stream", "name": "stdout", "text": "12345 <b>\n"}))
    transcript.apply(CodeFinished("cell-1-0", {"execution_count": 1, "outputs": [], "error": None, "duration": 0.1, "files": []}))
    transcript.apply(AssistantText("The total is **12,345**."))
    transcript.add_user("And the share?")
    transcript.apply(CodeStarted("cell-1-0", "print(0.4567)"))
    transcript.apply(KernelOutput("cell-1-0", {"kind": "stream", "name": "stdout", "text": "0.4567\n"}))
    transcript.apply(CodeFinished("cell-1-0", {"execution_count": 2, "outputs": [], "error": None, "duration": 0.1, "files": []}))
    transcript.apply(AssistantText('<img src=x onerror="alert(1)"> It is 45.7% of 12,345, up 12.5% <script>alert(2)</script>; see [3,456](https://example.org/3456) and `x = 98.6`.'))
    return transcript


def _shown_html(pane) -> str:
    """The HTML the page gets for a Markdown pane (Panel escapes it once for its model)."""
    import html

    return html.unescape(pane._transform_object(pane.object)["object"])


def test_a_stored_answer_is_drawn_with_its_figures_marked_and_its_html_escaped():
    import re

    from localyst.session import Conversation
    from localyst.ui._actions import TOKEN
    from localyst.ui._figures import UNCOMPUTED, AnswerText
    from localyst.ui._markdown import lock_down_markdown

    lock_down_markdown()  # as the page does before anything is drawn
    app = LocalystApp("")
    app.show_conversation(Conversation(app.kernel, _stored_with_figures(), []))
    panel = app._stored_answer(app.session, 1)
    body = panel.objects[0]
    [text] = [o for o in body.objects if isinstance(o, AnswerText)]
    shown = _shown_html(text)
    assert "<img" not in shown and "<script" not in shown  # the model's HTML is text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in shown and "&lt;script&gt;alert(2)&lt;/script&gt;" in shown
    buttons = re.findall(r"<button [^>]*>[^<]*</button>", shown)
    assert len(buttons) == 2, shown
    share, total = buttons
    assert ">45.7%</button>" in share and 'data-cell="1-0"' in share and f'data-token="{TOKEN}"' in share
    assert 'title="From the output of a cell: print(0.4567) → 0.4567. Click to show the cell."' in share
    # 12,345 came from the first turn's cell, whose code holds a quote and markup: escaped in the title
    assert 'data-cell="0-0"' in total and "of an earlier answer" in total and "&quot;&lt;b&gt;&quot;" in total
    assert f'<mark class="ly-uncomputed" title="{UNCOMPUTED}">12.5%<sup>?</sup></mark>' in shown
    assert shown.count("ly-uncomputed") == 1  # not the link's text, not the inline code
    assert '<a href="https://example.org/3456"' in shown and "<code>x = 98.6</code>" in shown
    # the cells say which they are, for the page to find them
    [cell] = [c for c in app._stored_answer(app.session, 0).objects[0].objects if getattr(c, "css_classes", None) == ["ly-code"]]
    assert "data-ly-cell='0-0'" in cell.objects[2].object


def test_an_unmarked_answer_renders_as_any_markdown_pane():
    from localyst.ui._figures import AnswerText
    from localyst.ui._markdown import lock_down_markdown

    lock_down_markdown()
    source = "Total **12,345** <b>x</b> ![i](http://e.org/i.png)"
    assert _shown_html(AnswerText(source)) == _shown_html(pn.pane.Markdown(source))
    assert "&lt;b&gt;" in _shown_html(AnswerText(source)) and "image not loaded" in _shown_html(AnswerText(source))
