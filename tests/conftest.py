"""Session fixtures shared by every test module.

pytest registers a fixture once per module that *imports* it, so a session fixture imported from a
helper module by two test modules runs twice. Defining the tiny-run fixtures here makes them true
session fixtures: one tiny recipe run per test session, however many modules read it.
"""

import dualasr.lazy_deps  # noqa: F401  (before any ESPnet import in the tests)
from mini_l2_run import mini_l2_tiny  # noqa: F401
from tiny_recipe import tiny_recipe  # noqa: F401
from slurm_cluster import slurm_cluster  # noqa: F401
