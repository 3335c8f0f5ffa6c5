"""Grid-based dispute mediation and people's-suggestion intake."""

import os

# Piccolo finds its engine and apps through this module.
os.environ.setdefault("PICCOLO_CONF", "mediation.piccolo_conf")
