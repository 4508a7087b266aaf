"""Lint (and so compile, which is the same pipeline) is linear in the number of object types.

Wall-clock time would make a flaky test on a busy machine, so this counts work instead: the calls
of every Python function while linting the bench's generated mapping (one custom schema per object
type) at 50 and at 200 objects. Four times the objects may cost at most about four times the calls,
for the whole run and for each function on its own, so a quadratic spot anywhere (an object's
work that loops over all the others, as custom schemas once did) fails here by name.
"""

from __future__ import annotations

import cProfile
import pstats

from bench.measures.compile import mapping_text
from mapper.lint import lint_text

SMALL, LARGE = 50, 200
SLACK = 1.1  # linear growth plus a little for fixed costs that are not quite constant


def calls(objects: int) -> dict[str, int]:
    """Calls per function while linting a generated mapping of ``objects`` object types."""
    text = mapping_text(objects)
    profile = cProfile.Profile()
    profile.enable()
    result = lint_text(text, f"bench{objects}.map")
    profile.disable()
    assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics[:3]
    stats = pstats.Stats(profile).stats
    return {f"{file}:{line}({name})": counts[1] for (file, line, name), counts in stats.items()}


def test_lint_work_grows_linearly_with_objects() -> None:
    lint_text(mapping_text(2), "warm.map")  # build the parser and sqlglot's tables outside the count
    small, large = calls(SMALL), calls(LARGE)
    growth = LARGE / SMALL * SLACK
    assert sum(large.values()) <= growth * sum(small.values())
    superlinear = {
        name: (small.get(name, 0), n)
        for name, n in large.items()
        if n > 1000 and n > growth * small.get(name, 0)
    }
    assert not superlinear, f"calls at {SMALL} and {LARGE} objects: {superlinear}"


def test_the_generated_mapping_has_a_schema_per_object() -> None:
    text = mapping_text(3)
    assert text.count("\nschema asset") == 3 and "object Asset03 from inventory schema asset03" in text
