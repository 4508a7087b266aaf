"""Targets, the results table, the JSON file, and the machine the figures came from."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    op: str  # ">=" or "<="
    limit: float
    unit: str  # what the compared value is: "x" (a ratio to the baseline), "ms", "B", "%"

    def passes(self, value: float) -> bool:
        return value >= self.limit if self.op == ">=" else value <= self.limit

    def describe(self) -> str:
        return f"{self.op} {fmt(self.limit, self.unit)}"


TARGETS = {
    t.key: t
    for t in (
        Target("get_filter", "1. GET /Users?filter (cached) req/s", ">=", 0.8, "x"),
        Target("get_filter_p99", "1. GET /Users?filter p99 at 16 conns", "<=", 3.0, "ms"),
        Target("get_id", "2. GET /Users/{id} req/s", ">=", 0.9, "x"),
        Target("post", "3. POST /Users (durable commits) req/s", ">=", 0.8, "x"),
        Target("post_64", "3. POST /Users at 64 conns req/s", ">=", 0.8, "x"),
        Target("patch", "3. PATCH /Users/{id} (one attribute) req/s", ">=", 0.8, "x"),
        Target("patch_64", "3. PATCH /Users/{id} at 64 conns req/s", ">=", 0.8, "x"),
        Target("import", "4. full import rows/s", ">=", 0.5, "x"),
        Target("memory", "5. RSS per cached user", "<=", 700, "B"),
        Target("delta", "6. delta sync (100 changes) / full import", "<=", 0.01, "%"),
        Target("delete_scan", "6b. delete scan per delta / full import", "<=", 0.05, "%"),
        Target("compile", "7. compile 50 objects / sqlglot alone", "<=", 3.0, "x"),
        Target("compile_200", "7. compile 200 objects / sqlglot alone", "<=", 3.0, "x"),
        Target("compile_400", "7. compile 400 objects / sqlglot alone", "<=", 3.0, "x"),
        Target("compile_scaling", "7. compile time per object, 400 / 50 objects", "<=", 1.5, "x"),
        Target("workers", "8. reads, two workers / one (coherence on)", ">=", 1.7, "x"),
    )
}

#: The measures that need no database: run once, outside the per-database runs.
COMPILE_KEYS = ("compile", "compile_200", "compile_400", "compile_scaling")

ORDER = {key: i for i, key in enumerate(TARGETS)}


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "%":
        return f"{value * 100:.2f}%"
    if unit == "ms":
        return f"{value:.2f} ms"
    if unit == "B":
        return f"{value:,.0f} B"
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"
    if abs(value) >= 100:
        return f"{value:,.0f} {unit}".strip()
    return f"{value:.1f} {unit}".strip()


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


@dataclass
class Row:
    """One line of the table: the gateway's figure, the baseline's, and the value held to the target."""

    key: str
    gateway: float | None
    baseline: float | None
    unit: str  # unit of gateway/baseline ("req/s", "rows/s", "B", "s")
    value: float | None  # compared with the target (a ratio, ms, bytes or a fraction)
    note: str = ""
    error: str | None = None

    @property
    def target(self) -> Target:
        return TARGETS[self.key]

    @property
    def passed(self) -> bool | None:
        return None if self.value is None else self.target.passes(self.value)

    def as_dict(self) -> dict:
        return {**asdict(self), "target": self.target.describe(), "pass": self.passed}


def ratio_row(key: str, gateway: float | None, baseline: float | None, unit: str, note: str = "") -> Row:
    value = gateway / baseline if gateway is not None and baseline else None
    return Row(key, gateway, baseline, unit, value, note)


def table(runs: list[dict], compile_rows: list[Row]) -> str:
    header = ("measure", "db", "users", "gateway", "baseline", "value", "target", "result")
    lines = [header]
    for run in runs:
        for row in sorted(run["rows"], key=lambda r: ORDER[r.key]):
            lines.append(_line(row, run["database"], f"{run['users']:,}"))
    lines.extend(_line(row, "-", "-") for row in compile_rows)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = ["  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)) for line in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def _line(row: Row, database: str, users: str) -> tuple[str, ...]:
    if row.error:
        result = "ERROR"
    elif row.passed is None:
        result = "-"
    else:
        result = "pass" if row.passed else "FAIL"
    return (
        row.target.label,
        database,
        users,
        fmt(row.gateway, row.unit),
        fmt(row.baseline, row.unit),
        fmt(row.value, row.target.unit),
        row.target.describe(),
        result + (f" ({row.note})" if row.note else ""),
    )


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass

    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "versions": {
            name: version(name)
            for name in (
                "uvicorn",
                "starlette",
                "uvloop",
                "httptools",
                "sqlalchemy",
                "psycopg",
                "sqlglot",
                "orjson",
            )
        },
    }


def write_json(document: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def markdown(document: dict) -> str:
    """The figures of a results document as Markdown, for docs/performance.md: one summary table
    (each measure's compared value per database and size), then every run's figures in full."""
    runs = document["runs"]
    columns = [f"{run['database']} {_size(run['users'])}" for run in runs]
    out = ["| measure | target | " + " | ".join(columns) + " |", "|---|---|" + "---|" * len(columns)]
    for key, target in TARGETS.items():
        if key in COMPILE_KEYS:
            continue
        cells = []
        for run in runs:
            row = next((r for r in run["rows"] if r["key"] == key), None)
            cells.append(_summary_cell(row, target))
        out.append(f"| {target.label} | {target.describe()} | " + " | ".join(cells) + " |")
    compile_rows = [document["compile"], *document.get("compile_more", [])]
    out.append("")
    for row in compile_rows:
        target = TARGETS[row["key"]]
        out.append(f"{target.label}: {_summary_cell(row, target)} (target {target.describe()})  ")
    for run in runs:
        out.append(f"\n**{run['database']}, {run['users']:,} users**\n")
        out.append("| measure | gateway | baseline | value | target | result |")
        out.append("|---|---|---|---|---|---|")
        for row in sorted(run["rows"], key=lambda r: ORDER[r["key"]]):
            out.append(_markdown_row(row))
    out.append("\n**compile (no database)**\n")
    out.append("| measure | gateway | baseline | value | target | result |")
    out.append("|---|---|---|---|---|---|")
    out.extend(_markdown_row(row) for row in compile_rows)
    return "\n".join(out)


def _size(users: int) -> str:
    return f"{users // 1_000_000}M" if users % 1_000_000 == 0 else f"{users // 1000}k"


def _summary_cell(row: dict | None, target: Target) -> str:
    if row is None:  # not measured in this run (the workers row without --workers)
        return "not run"
    if row.get("error"):
        return "error"
    if row["value"] is None:
        return "-"
    return f"{fmt(row['value'], target.unit)} {'pass' if row['pass'] else '**FAIL**'}"


def _markdown_row(row: dict) -> str:
    target = TARGETS[row["key"]]
    result = (
        "ERROR: " + row["error"]
        if row.get("error")
        else {True: "pass", False: "**FAIL**", None: "-"}[row["pass"]]
    )
    if row.get("note"):
        result += f" ({row['note']})"
    return (
        f"| {target.label} | {fmt(row['gateway'], row['unit'])} | {fmt(row['baseline'], row['unit'])} "
        f"| {fmt(row['value'], target.unit)} | {target.describe()} | {result} |"
    )


if __name__ == "__main__":
    print(
        markdown(json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else RESULTS / "latest.json").read_text()))
    )
