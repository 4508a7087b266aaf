"""Bearer tokens: parsing MAPPER_TOKEN entries and token files, and authenticating headers."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapper.scim.auth import Credential, TokenConfigError, authenticate, load_credentials, parse_credentials


def test_bare_tokens_get_numbered_labels() -> None:
    credentials = parse_credentials(["alpha", " beta ", ""])
    assert [c.label for c in credentials] == ["client-1", "client-2"]
    assert [c.token for c in credentials] == [b"alpha", b"beta"]


def test_labelled_tokens() -> None:
    credentials = parse_credentials(["entra:s3cret", "okta: other "])
    assert [(c.label, c.token) for c in credentials] == [("entra", b"s3cret"), ("okta", b"other")]


def test_a_token_may_contain_colons_after_the_label() -> None:
    (credential,) = parse_credentials(["entra:a:b:c"])
    assert credential.label == "entra" and credential.token == b"a:b:c"


def test_empty_token_is_an_error() -> None:
    with pytest.raises(TokenConfigError, match="entra"):
        parse_credentials(["entra:"])


def test_token_file_with_comments(tmp_path: Path) -> None:
    file = tmp_path / "tokens"
    file.write_text("# clients\nentra:one\n\n  okta:two  \nthree\n", encoding="utf-8")
    credentials = load_credentials(["env:zero"], str(file))
    assert [c.label for c in credentials] == ["env", "entra", "okta", "client-4"]


def test_unreadable_token_file(tmp_path: Path) -> None:
    with pytest.raises(TokenConfigError, match="cannot read token file"):
        load_credentials([], str(tmp_path / "absent"))


def test_repr_hides_the_token() -> None:
    credential = Credential("entra", b"s3cret")
    assert "s3cret" not in repr(credential)
    assert "s3cret" not in repr((credential,))


@pytest.mark.parametrize(
    ("header", "label"),
    [
        (b"Bearer one", "a"),
        (b"bearer two", "b"),
        (b"BEARER  two ", "b"),
        (b"Bearer three", None),
        (b"Bearer on", None),
        (b"Bearer one1", None),
        (b"Basic one", None),
        (b"one", None),
        (b"Bearer ", None),
        (b"", None),
        (None, None),
    ],
)
def test_authenticate(header: bytes | None, label: str | None) -> None:
    credentials = parse_credentials(["a:one", "b:two"])
    assert authenticate(header, credentials) == label


def test_no_credentials_accept_nothing() -> None:
    assert authenticate(b"Bearer anything", ()) is None
