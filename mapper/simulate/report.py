"""The simulation's report: one :class:`StepResult` per step, rendered as text (one line per step,
details indented under failures, the summary last) or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

Status = Literal["PASS", "FAIL", "SKIP"]


@dataclass(frozen=True)
class StepResult:
    """``request``: the step's request (its first, or on failure the one that failed);
    ``expected``: on failure what was expected, on a skip why it was skipped;
    ``response``: on failure the response's status and a body excerpt."""

    name: str
    status: Status
    mode: str | None = None
    request: str | None = None
    expected: str | None = None
    response: str | None = None
    database: bool = False  # the step also checked the database


@dataclass
class Report:
    steps: list[StepResult] = field(default_factory=list)

    def add(self, step: StepResult) -> None:
        self.steps.append(step)

    def count(self, status: Status) -> int:
        return sum(1 for s in self.steps if s.status == status)

    @property
    def passed(self) -> int:
        return self.count("PASS")

    @property
    def failed(self) -> int:
        return self.count("FAIL")

    @property
    def skipped(self) -> int:
        return self.count("SKIP")

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed, {self.skipped} skipped"


def render_text(report: Report) -> str:
    lines: list[str] = []
    for step in report.steps:
        name = f"[{step.mode}] {step.name}" if step.mode else step.name
        line = f"{step.status}  {name}"
        if step.status == "SKIP":
            lines.append(f"{line}: {step.expected}")
            continue
        if step.status == "PASS":
            line += " + database" if step.database else ""
            line += f"  ({step.request})" if step.request else ""
        lines.append(line)
        if step.status == "FAIL":
            if step.request:
                lines.append(f"      request:  {step.request}")
            if step.response:
                lines.append(f"      response: {step.response}")
            if step.expected:
                lines.append(f"      expected: {step.expected}")
    lines.append(report.summary())
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    document = {
        "steps": [asdict(s) for s in report.steps],
        "passed": report.passed,
        "failed": report.failed,
        "skipped": report.skipped,
        "summary": report.summary(),
    }
    return json.dumps(document, indent=2) + "\n"
