"""The import floor (measure 4's physical limit): what each thing a full import must do to a
fetched row costs, as CPU time per row against the raw fetch, in one process, in the same run.

A ladder over the plan's import query on the driver's own cursor (``Tx.pages``, as the import
reads), each step doing what the one before did and one thing more:

- ``fetch``: ``fetchmany`` pages, keeping nothing (measure 4's baseline);
- ``keep``: each row, as fetched (a tuple), into a dict keyed by its anchor: the least anything
  that caches rows can do;
- ``list``: a mutable copy of each row kept instead (what converting any column needs);
- ``instants``: the dateTime columns converted to integer microseconds (``record.instant``,
  what keeps a cached user under the memory target);
- ``records``: each row made a slotted record by its shape's maker (``record.shape``);
- ``indexes``: and entered in the query index and the unique indexes, as the import does;
- ``import``: the gateway's own full import of the object (``loading.import_all``: keyset pages,
  its children, string pooling, the diff against the old state).

Each step's figure is the least CPU time (``time.process_time``) per row over the rounds, the steps
taking turns in each round; the ratio is ``fetch`` over the step (the same sense as measure 4:
1.0 is as fast as the fetch). Run::

    python -m bench.measures.import_floor URL DIALECT [ROUNDS]

It prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.data import HR_MAP

PAGE = 10_000
STEPS = ("fetch", "keep", "list", "instants", "records", "indexes", "import")


def ladder(url: str, dialect: str) -> tuple[dict[str, Callable[[Any], int]], Callable[[], None]]:
    from mapper.pipeline import load
    from mapper.runtime.cache import CacheState
    from mapper.runtime.codec import Codec
    from mapper.runtime.database import Database
    from mapper.runtime.loading import import_all
    from mapper.runtime.record import instant, shape
    from mapper.runtime.rows import RowForm

    obj = load(str(HR_MAP), write=dialect).object("User")
    codec = Codec(obj, "postgresql" if dialect == "postgres" else dialect)
    fold = codec.fold
    database = Database("hr", url)
    statement = obj.import_all
    anchor = codec.anchor_index
    stamps = RowForm.of(codec).stamps
    query = codec.query.index
    uniques = [(s.index, s.attr.case_exact) for s in codec.unique if s.index is not None]
    none = RowForm.of(codec).children([()] * len(obj.multi))

    def fetch(tx: Any) -> int:
        return sum(len(page) for page in tx.pages(statement, {}, PAGE))

    def keep(tx: Any) -> int:
        kept = {}
        for page in tx.pages(statement, {}, PAGE):
            for row in page:
                kept[row[anchor]] = row
        return len(kept)

    def as_list(tx: Any) -> int:
        kept = {}
        for page in tx.pages(statement, {}, PAGE):
            for fetched in page:
                row = list(fetched)
                kept[row[anchor]] = row
        return len(kept)

    def instants(tx: Any) -> int:
        kept = {}
        for page in tx.pages(statement, {}, PAGE):
            for fetched in page:
                row = list(fetched)
                for index in stamps:
                    row[index] = instant(row[index])
                kept[row[anchor]] = row
        return len(kept)

    def records(tx: Any, indexes: bool = False) -> int:
        kept: dict = {}
        by_query: dict = {}
        by_unique: list[dict] = [{} for _ in uniques]
        shapes: dict = {}
        for page in tx.pages(statement, {}, PAGE):
            for fetched in page:
                row = list(fetched)
                for index in stamps:
                    row[index] = instant(row[index])
                types = tuple(map(type, row))
                make = shapes.get(types)
                if make is None:
                    make = shapes[types] = shape(row, none).make
                key = row[anchor]
                kept[key] = make(row, none)
                if indexes:
                    by_query[fold(row[query], False)] = key
                    for (index, exact), unique in zip(uniques, by_unique, strict=True):
                        if row[index] is not None:
                            unique[fold(row[index], exact)] = key
        return len(kept)

    def gateway(tx: Any) -> int:
        done = import_all(tx, obj, codec, CacheState(codec), page_size=PAGE, progress_every=10**12)
        return len(done.state.records)

    steps = {
        "fetch": fetch,
        "keep": keep,
        "list": as_list,
        "instants": instants,
        "records": records,
        "indexes": lambda tx: records(tx, indexes=True),
        "import": gateway,
    }
    return steps, database.dispose


def measure(url: str, dialect: str, rounds: int) -> dict:
    from mapper.runtime.database import Database

    steps, close = ladder(url, dialect)
    database = Database("hr", url)
    cpu: dict[str, list[float]] = {name: [] for name in STEPS}
    rows = 0
    gc.disable()  # as the import runs (loading.collector_paused), for every step alike
    try:
        for _ in range(rounds):
            for name in STEPS:
                gc.collect()
                started = time.process_time()
                rows = database.run_sync(steps[name], snapshot=True)
                cpu[name].append((time.process_time() - started) / rows)
    finally:
        gc.enable()
        close()
        database.dispose()
    best = {name: min(values) for name, values in cpu.items()}
    return {
        "rows": rows,
        "cpu_us_per_row": {name: 1e6 * value for name, value in best.items()},
        "ratio_to_fetch": {name: best["fetch"] / value for name, value in best.items()},
        "all_cpu_us_per_row": {name: [1e6 * v for v in values] for name, values in cpu.items()},
    }


def main(argv: list[str]) -> None:
    url, dialect, *rest = argv
    print(json.dumps(measure(url, dialect, int(rest[0]) if rest else 3)))


if __name__ == "__main__":
    main(sys.argv[1:])
