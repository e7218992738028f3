"""Every feature's configuration section, registered by importing the feature's config module
(config.SECTIONS): a file with a `guard:` or `jobs:` key parses only once they all are. These
modules hold pydantic models (and what the install must hold for them: `missing_extras`), so a
command that only reads the configuration (the governance CLI, `seawall check`) does not load
the features' engines with them."""
from .actions import config as _actions_config  # noqa: F401
from .cache import config as _cache_config  # noqa: F401
from .govern import config as _govern_config  # noqa: F401
from .guard import config as _guard_config  # noqa: F401
from .jobs import config as _jobs_config  # noqa: F401
from .resilience import config as _resilience_config  # noqa: F401
from .sandbox import config as _sandbox_config  # noqa: F401


def missing_extras(config):
    """What this configuration would use that the install lacks (core/extras.py): errors stop
    `seawall serve` and `seawall check`, notices are said at start-up. Each section reports
    for itself, from its config module (no engine is loaded to ask)."""
    from .core.extras import Report

    return Report().extend(_guard_config.missing_extras(config)).extend(_cache_config.missing_extras(config))
