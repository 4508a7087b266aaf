"""Where the project lives on the web: the one base for every documentation link the tool prints
or publishes (``mapper lint --explain``, SARIF ``helpUri``, the SCIM ``documentationUri``).

Links are absolute because an installed wheel carries no ``docs/`` folder. ``pyproject.toml``'s
``[project.urls]`` names the same addresses (a test keeps them equal).
"""

from __future__ import annotations

REPOSITORY = "https://github.com/scim-sql-mapper/scim-sql-mapper"
DOCS = f"{REPOSITORY}/blob/main/docs"


def doc(page: str, anchor: str | None = None) -> str:
    """The absolute URL of ``docs/<page>`` (``diagnostics.md``), at ``#anchor`` when given."""
    return f"{DOCS}/{page}" + (f"#{anchor}" if anchor else "")
