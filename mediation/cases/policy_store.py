"""The deadline policy kept in the database (the newest row wins; older ones are history)."""

from __future__ import annotations

import logging
import time

from mediation.accounts.services import CurrentUser
from mediation.cases import deadlines
from mediation.cases.common import CaseError
from mediation.cases.tables import (
    DeadlinePolicy,
)
from mediation.i18n import gettext as _

log = logging.getLogger(__name__)


async def current_policy() -> deadlines.Policy:
    """The newest stored policy that the rules accept (else the packaged default).

    A policy saved before a rule was tightened (say 99999999 days, from before days were
    bounded) is passed over with a warning rather than failing every page that shows a clock;
    the administrator's page says what is wrong with it.
    """
    rows = (
        await DeadlinePolicy.select(DeadlinePolicy.id, DeadlinePolicy.body)
        .order_by(DeadlinePolicy.id, ascending=False)
        .limit(20)
        .output(load_json=True)
    )
    for row in rows:
        try:
            return deadlines.parse_policy(row["body"], f"stored deadline policy {row['id']}")
        except deadlines.PolicyError as exc:
            log.warning("deadline policy passed over: %s", exc)
    return deadlines.default_policy()


async def stored_policy_problem() -> str:
    """Why the newest stored policy is not applied, or '' (shown on the administrator's page)."""
    row = (
        await DeadlinePolicy.select(DeadlinePolicy.body)
        .order_by(DeadlinePolicy.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return ""
    try:
        deadlines.parse_policy(row["body"])
    except deadlines.PolicyError as exc:
        return _(
            "This policy breaks the rules, so the one saved before it applies until it is "
            "corrected: %(detail)s",
            detail=exc.detail,
        )
    return ""


# The policy as pages show it (a case's clocks): kept in the process like the holiday calendar,
# reloaded at once after an edit made here and otherwise at most every REFRESH_SECONDS, so
# another app server shows an edit within that time. Changes to cases (registration, on-time
# facts, the sweep) read ``current_policy`` itself.
REFRESH_SECONDS = 60.0
_shown: deadlines.Policy | None = None
_loaded_at: float | None = None


async def shown_policy() -> deadlines.Policy:
    """The policy for display, read again when older than REFRESH_SECONDS."""
    global _shown, _loaded_at
    if _shown is None or _loaded_at is None or time.monotonic() - _loaded_at > REFRESH_SECONDS:
        _shown = await current_policy()
        _loaded_at = time.monotonic()
    return _shown


def forget_shown_policy() -> None:
    global _loaded_at
    _loaded_at = None


async def current_policy_json() -> str:
    import json

    row = (
        await DeadlinePolicy.select(DeadlinePolicy.body)
        .order_by(DeadlinePolicy.id, ascending=False)
        .output(load_json=True)
        .first()
    )
    if row is None:
        return deadlines.DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    return json.dumps(row["body"], ensure_ascii=False, indent=2)


async def save_policy_text(user: CurrentUser, text: str) -> None:
    """Store a new policy (the old ones stay as history) after checking it completely."""
    import json

    try:
        body = json.loads(text)
    except RecursionError as exc:
        raise CaseError(_("This is nested too deeply to be a policy."), "body") from exc
    except json.JSONDecodeError as exc:
        raise CaseError(
            _(
                "This is not valid JSON (line %(line)s, column %(col)s).",
                line=exc.lineno,
                col=exc.colno,
            ),
            "body",
        ) from exc
    from mediation.grid.tables import DisputeCategory

    codes = {r["code"] for r in await DisputeCategory.select(DisputeCategory.code)}
    try:
        deadlines.parse_policy(body, "deadline policy", category_codes=codes)
    except deadlines.PolicyError as exc:
        raise CaseError(
            _("The policy is not valid: %(detail)s", detail=exc.detail), "body"
        ) from exc
    await DeadlinePolicy(body=body, updated_by=user.id).save()
    forget_shown_policy()
    from mediation.grid.services import record_audit

    await record_audit(user, "update", "deadline_policy", "", {}, {"size": len(text)})
