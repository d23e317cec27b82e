"""The suite's xdist groups take effect: `--dist loadgroup` sends each group to one worker.

Groups carry the suite's costly shared set-ups (the search index loaded once per language in one
browser tab, each group of the determinism test's second runs in one runner process). When
grouping silently stops working (as with pytest 9.2 and pytest-xdist 3.8: the worker adds the
group as a node-id suffix that pytest 9.2 no longer keeps, pytest-dev/pytest-xdist#1386), every
test still passes but each worker pays for every set-up, and the suite takes a minute longer.
"""

from __future__ import annotations

import os

import pytest


def group_names(item: pytest.Item) -> set[str]:
    return {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}


def test_every_grouped_test_carries_its_group_to_the_scheduler(request: pytest.FixtureRequest) -> None:
    """In a worker of `make test`, the scheduler sees a grouped test's group in its node id (that is
    how pytest-xdist's loadgroup scheduler reads it): ``<id>@<groups joined by _>``."""
    if not os.environ.get("PYTEST_XDIST_WORKER") or not request.config.getvalue("loadgroup"):
        pytest.skip("only a pytest-xdist worker under --dist loadgroup (as `make test` runs) has groups")
    grouped = [item for item in request.session.items if group_names(item)]
    if not grouped:
        pytest.skip("no grouped test in this run (the full suite has tests/browser/test_search.py and tests/test_determinism.py)")
    lost = [item.nodeid for item in grouped if not item.nodeid.endswith("@" + "_".join(sorted(group_names(item))))]
    assert not lost, (
        f"{len(lost)} of {len(grouped)} grouped tests lost their group (pytest {pytest.__version__}; "
        f"see pytest-dev/pytest-xdist#1386), e.g. {lost[:3]}"
    )
