"""Test-wide settings. Hypothesis's per-example deadline (200 ms by default) is a timing assertion: on a loaded
machine an exact property fails for being slow. Tests here assert behaviour, never time, so it is off."""

from hypothesis import settings

settings.register_profile("nanochat", deadline=None)
settings.load_profile("nanochat")
