"""Who may do what: the role lists that guards and menus share, in one place.

Role names are the codes stored in ``Staff.roles``; their labels are in ``mediation.labels``.
"""

from __future__ import annotations

# Those who register disputes (the intake form and POST /api/cases).
INTAKE_ROLES = ("grid_worker", "centre_staff", "police")
