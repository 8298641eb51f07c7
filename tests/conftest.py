"""Hypothesis settings for the whole suite: no deadline (CI machines stall), few examples."""

from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=40)
settings.load_profile("ci")
