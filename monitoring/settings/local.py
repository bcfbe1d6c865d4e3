"""Developer machine: debug on unless the environment says otherwise."""

from monitoring.env import env_bool

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
