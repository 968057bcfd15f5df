"""Shared pytest configuration: hypothesis profiles.

``default``: fast (the default suite stays well under ten minutes on two cores).
``ci``: thorough; select with ``HYPOTHESIS_PROFILE=ci`` or ``--hypothesis-profile=ci``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
