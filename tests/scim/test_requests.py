"""Reading a request body (:mod:`mapper.scim.routes.requests`): a key given twice in one object
is refused, found by comparing colon counts (the fast path every body takes) or by a scan of
the body's keys; both must agree with a parser that sees every key."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapper.scim.errors import ScimError
from mapper.scim.routes.requests import refuse_repeated_keys

#: keys and strings rich in what could confuse a count: colons, quotes, backslashes, escapes
TEXT = st.text(alphabet=st.sampled_from(["a", "b", ":", '"', "\\", " ", "é", "{", "["]), max_size=4)
SCALARS = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | TEXT
PAIRS = st.recursive(
    st.lists(st.tuples(TEXT, SCALARS), max_size=4),
    lambda inner: st.lists(
        st.tuples(TEXT, SCALARS | inner | st.lists(SCALARS | inner, max_size=3)), max_size=4
    ),
    max_leaves=12,
)


def write(pairs: Any, escape: bool, spaced: bool) -> str:
    """``pairs`` as a JSON object, keys repeated as given: non-ASCII and colons escaped when
    ``escape``, spaces around the colons when ``spaced``."""
    colon = " : " if spaced else ":"
    if isinstance(pairs, list) and all(isinstance(p, tuple) for p in pairs):
        return (
            "{"
            + ",".join(write(k, escape, spaced) + colon + write(v, escape, spaced) for k, v in pairs)
            + "}"
        )
    if isinstance(pairs, list):
        return "[" + ",".join(write(v, escape, spaced) for v in pairs) + "]"
    text = json.dumps(pairs, ensure_ascii=escape)
    return text.replace(":", "\\u003a") if escape and isinstance(pairs, str) else text


def repeated(text: str) -> bool:
    found = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        found = found or len({k for k, _ in items}) != len(items)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)
    return found


def refused(body: bytes) -> bool:
    try:
        refuse_repeated_keys(body, orjson.loads(body))
    except ScimError as exc:
        assert exc.scim_type == "invalidSyntax" and "appears twice in one object" in exc.detail
        return True
    return False


@settings(max_examples=400, deadline=None)
@given(PAIRS, st.booleans(), st.booleans())
def test_a_key_given_twice_is_refused_and_no_other_body(pairs: Any, escape: bool, spaced: bool) -> None:
    text = write(pairs, escape, spaced)
    assert refused(text.encode()) == repeated(text), text


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"a":1,"a":2}', "a"),
        (b'{"a":{"b":1,"b":2}}', "b"),
        (b'{"a":[{"b":1},{"b":2,"c":"x:y","b":3}]}', "b"),
        (b'{"\\u0061":1,"a":2}', "a"),
        (b'{"x":"\\u003a","a":1,"a":2}', "a"),
        (b'{"k:":1,"k:":2}', "k:"),
        (b"[" * 300 + b'{"a":1,"a":1}' + b"]" * 300, "a"),  # deeper than orjson writes
    ],
)
def test_the_key_is_named(body: bytes, key: str) -> None:
    with pytest.raises(ScimError) as caught:
        refuse_repeated_keys(body, orjson.loads(body))
    assert caught.value.detail == f"the key '{key}' appears twice in one object: send it once"


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,"b":{"a":2}}',
        b'{"a":"\\"}:","b":1}',
        b'{"a":"\\\\u003a","b":1}',  # an escaped backslash, then u003a: no escape
        b"[" * 300 + b'{"a":1}' + b"]" * 300,
    ],
)
def test_keys_once_per_object_pass(body: bytes) -> None:
    refuse_repeated_keys(body, orjson.loads(body))
