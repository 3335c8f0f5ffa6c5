"""The suggestions service, one import for callers: direct-report points, thematic calls,
filing and tracking, the office's reading, grouping and moves, the public board and the
sweep. Each part lives in its own module; this one gathers their public names."""

from __future__ import annotations

from mediation.suggestions.board import (
    BOARD_OUTCOMES,
    board_departments,
    public_board,
)
from mediation.suggestions.common import (
    POLICY,
    STAFF_ROLES,
    SuggestionError,
    digest_token,
)
from mediation.suggestions.filing import (
    PhotoRow,
    filed_with_form_key,
    photos_of,
    submit_suggestion,
)
from mediation.suggestions.grouping import (
    NO_NEW_MEMBERS,
    PROGRESS,
    group_with,
    leave_group,
)
from mediation.suggestions.moves import (
    department_choices,
    grid_choices,
    move,
    reroute_to_case,
)
from mediation.suggestions.points import (
    BIND_LINK_HOURS,
    NO_FIGURES,
    KioskPoint,
    PointToBind,
    PublicPoint,
    bind_device,
    exchange_bind_token,
    point_figures,
    point_for_bind_token,
    point_for_token,
    public_points,
    revoke_device,
)
from mediation.suggestions.queries import (
    EXPORT_LIMIT,
    IDENTITY_FIELDS,
    ExportRow,
    ListFilters,
    SimilarPlace,
    SimilarSuggestion,
    StaffStep,
    SuggestionDetail,
    apply_list_filters,
    export_rows,
    redact,
    similar_to,
    similar_to_scan,
    similar_with_places,
    staff_list,
    suggestion_for_staff,
)
from mediation.suggestions.sweep import (
    sweep_suggestions,
)
from mediation.suggestions.topics import (
    TopicRow,
    create_topic,
    open_topics,
)
from mediation.suggestions.tracking import (
    PublicStep,
    TrackedSuggestion,
    rate,
    track,
)

__all__ = [
    "BIND_LINK_HOURS",
    "BOARD_OUTCOMES",
    "EXPORT_LIMIT",
    "ExportRow",
    "IDENTITY_FIELDS",
    "KioskPoint",
    "ListFilters",
    "NO_FIGURES",
    "NO_NEW_MEMBERS",
    "POLICY",
    "PROGRESS",
    "PhotoRow",
    "PointToBind",
    "PublicPoint",
    "PublicStep",
    "STAFF_ROLES",
    "SimilarPlace",
    "SimilarSuggestion",
    "StaffStep",
    "SuggestionDetail",
    "SuggestionError",
    "TopicRow",
    "TrackedSuggestion",
    "apply_list_filters",
    "bind_device",
    "board_departments",
    "create_topic",
    "department_choices",
    "digest_token",
    "exchange_bind_token",
    "export_rows",
    "filed_with_form_key",
    "grid_choices",
    "group_with",
    "leave_group",
    "move",
    "open_topics",
    "photos_of",
    "point_figures",
    "point_for_bind_token",
    "point_for_token",
    "public_board",
    "public_points",
    "rate",
    "redact",
    "reroute_to_case",
    "revoke_device",
    "similar_to",
    "similar_to_scan",
    "similar_with_places",
    "staff_list",
    "submit_suggestion",
    "suggestion_for_staff",
    "sweep_suggestions",
    "track",
]
