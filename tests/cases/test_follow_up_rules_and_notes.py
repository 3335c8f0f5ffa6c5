"""Pure rules of follow-up visits and terminations, and the timeline's own notes shown in the
reader's language whatever language they were written in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mediation import i18n
from mediation.cases import deadlines, followups, labels, workflow

pytestmark = pytest.mark.pure


def test_performance_applies_only_where_an_agreement_was_reached():
    assert followups.performance_applies("settled", [])  # an oral agreement has no record
    assert followups.performance_applies("terminated", ["effective"])  # breached, then ended
    assert not followups.performance_applies("terminated", [])
    assert not followups.performance_applies("terminated", ["issued"])  # a party refused to sign


def test_an_explanation_is_kept_whatever_the_reason():
    move = workflow.apply(
        "terminate",
        "mediating",
        "grid",
        termination_reason="positions_too_far",
        termination_text=" 双方对押金数额分歧大 ",
        referral_advice="litigation",
    )
    assert move.details["termination_text"] == "双方对押金数额分歧大"
    move = workflow.apply(
        "decline", "registered", "grid", decline_reason="before_court", decline_text="已起诉"
    )
    assert move.details["decline_text"] == "已起诉"
    move = workflow.apply(
        "terminate",
        "mediating",
        "grid",
        termination_reason="positions_too_far",
        termination_text="  ",
        referral_advice="litigation",
    )
    assert "termination_text" not in move.details


def _in(locale: str, function, *args):
    token = i18n.set_locale(locale)
    try:
        return function(*args)
    finally:
        i18n.reset_locale(token)


@pytest.mark.parametrize(
    ("written", "english", "chinese"),
    [
        (
            "打印了完整的身份证号码和电话号码",
            "Printed with full ID numbers and phone numbers",
            None,
        ),
        ("达成协议", "Agreement reached", None),
        ("Agreement reached", "Agreement reached", "达成协议"),
        ("协议（2026）当湖调字第8号已生效。", "Agreement （2026）当湖调字第8号 took effect.", None),
        ("已通知：沈建华、陆美芳", "Notified: 沈建华、陆美芳", None),
        ("名称、住址", "Name, Address", None),
        ("Name、Address", "Name, Address", "名称、住址"),
        ("Found performed at the follow-up visit.", None, "回访时确认已履行。"),
    ],
)
def test_notes_the_app_wrote_are_shown_in_the_readers_language(written, english, chinese):
    assert _in("en", labels.event_note, written) == (english or written)
    assert _in("zh_CN", labels.event_note, written) == (chinese or written)


def test_an_automatic_escalation_note_translates_its_clock_too():
    """The sweep writes in the default locale, with a clock's label inside the note."""
    written = _in("zh_CN", i18n.gettext, "Escalated automatically: %(clock)s is overdue.")
    note = written % {"clock": _in("zh_CN", str, deadlines.CLOCK_LABELS["mediation"])}
    assert _in("en", labels.event_note, note) == (
        "Escalated automatically: Mediation deadline is overdue."
    )


@pytest.mark.parametrize("typed", ["达成协议了吗？", "双方同意", "已通知", "Agreement"])
def test_notes_a_person_typed_stay_as_typed(typed):
    assert _in("en", labels.event_note, typed) == typed
    assert _in("zh_CN", labels.event_note, typed) == typed


def test_every_note_the_app_writes_is_known_to_the_timeline():
    """Each ``note=_("...")`` in the code is one of ``labels.APP_NOTES``: a new app-written
    note is shown in the reader's language, or this fails."""
    root = Path(__file__).resolve().parents[2] / "mediation"
    written = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "note":
                call = node.value
                if (
                    isinstance(call, ast.Call)
                    and getattr(call.func, "id", "") == "_"
                    and call.args
                    and isinstance(call.args[0], ast.Constant)
                ):
                    written.add(call.args[0].value)
    assert "Both sides consented." in written, "the scan is vacuous"
    assert written - set(labels.APP_NOTES) == set()
