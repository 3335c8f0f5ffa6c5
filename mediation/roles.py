"""Who may do what: the role lists that guards, scoping and menus share, in one place.

Role names are the codes stored in ``Staff.roles``; their labels are in ``mediation.labels``.
"""

from __future__ import annotations

# Every role an account can hold.
ROLES = ("grid_worker", "police", "mediator", "volunteer", "centre_staff", "handler", "admin")

# A grid's team (警网融合): they see and manage their grid's cases.
TEAM_ROLES = ("grid_worker", "police")
# Mediators (staff or volunteer): they see the cases they are assigned to.
MEDIATOR_ROLES = ("mediator", "volunteer")
# They see their whole region's subtree (a town's centre, the county's administrators).
AREA_ROLES = ("centre_staff", "admin")

# Those who work on disputes: case pages, sessions, party details revealed on purpose.
CASE_ROLES = (*TEAM_ROLES, *MEDIATOR_ROLES, "centre_staff")
# Those who register disputes (the intake form, POST /api/cases) and move cases on.
INTAKE_ROLES = (*TEAM_ROLES, "centre_staff")
MANAGE_ROLES = INTAKE_ROLES
# Those who see early-warning signals.
WARNING_ROLES = (*AREA_ROLES, "police")
# Every role that works inside the app rather than handling suggestions only.
STAFF_ROLES = (*CASE_ROLES, "admin")
