"""The fast tier skips a test module only when the ``-m`` expression could select none of its tests."""

from __future__ import annotations

import pytest
from conftest import _only_fast

pytestmark = pytest.mark.fast  # the inner loop: python -m pytest -m fast (seconds)


@pytest.mark.parametrize(
    ("markexpr", "only_fast"),
    [
        ("fast", True),
        ("fast and not slow", True),
        ("not slow and fast", True),
        ("(fast or slow) and not slow", True),
        ("", False),
        ("not slow", False),
        ("fast or node", False),
        ("not fast", False),
        ("fast and (", False),  # unreadable: collect everything, as pytest would
    ],
)
def test_modules_without_fast_tests_are_skipped_only_when_no_test_of_theirs_can_run(markexpr, only_fast):
    assert _only_fast(markexpr) is only_fast
