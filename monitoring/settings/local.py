"""One machine (`make run`): served as a deployment would be, DEBUG off unless DEBUG=1 (`make dev`).

DEBUG pages list every URL, show settings, SQL and local variables to anyone: they are for a
developer's own machine only, never the default.
"""

from monitoring.env import env_bool

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", False)
