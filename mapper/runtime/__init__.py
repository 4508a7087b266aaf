"""The runtime: serves a compiled plan from its databases.

| module | what |
|---|---|
| ``gateway`` | :class:`Gateway`: databases, stores, the initial import, health, autosync on/off |
| ``store`` | :class:`ObjectStore`: get/find/lookup/all, create/replace/delete, syncs of one object type |
| ``store_base``, ``store_reads`` | the store's state and plan; its reads |
| ``store_checks``, ``store_writes`` | the store's write-time checks; its writes |
| ``record`` | :class:`Record`: what the cache keeps of one object, one small class per shape |
| ``codec`` | :class:`Codec`: records <-> SCIM resources, per attribute of the plan |
| ``slots``, ``rendering`` | the codec's per-attribute facts, and its render plan |
| ``dn`` | an object's DN and a DN id's anchor (the syntax is :mod:`mapper.dn`'s) |
| ``values`` | single values: database -> SCIM JSON, client JSON -> what each dialect binds |
| ``cache`` | records and look-up indexes; syncs swap whole states in |
| ``loading`` | worker-thread reads: full imports (and, re-exported, the rest of the reads) |
| ``rows`` | rows into records (:class:`RowForm`), driver cursor pages, one object by anchor |
| ``deltas`` | changes since the last sync, anchor scans, the watermark |
| ``database`` | one engine per source, statements compiled once, transactions in worker threads |
| ``tx``, ``group_commit`` | a transaction in a worker thread; concurrent writes batched into one commit |
| ``urls``, ``sqlite`` | database URL helpers; SQLite's set-up |
| ``driver_errors``, ``watchdog`` | what kind of failure a driver error is; the statement watchdog |
| ``inserts`` | create statements without the columns a create leaves absent |
| ``engine`` | the SQLAlchemy engine of a database: connect arguments, pool listeners, the watchdog |
| ``sqlfilter`` | SCIM filters answered by the database: filter → SQL over the import |
| ``autosync`` | the background delta/full import loop |
| ``coherence`` | other gateway processes' writes: LISTEN/NOTIFY or a polled change log, re-read by anchor |
| ``locks`` | per-key locks for writes |
| ``errors`` | the errors the SCIM front end maps to responses |

Nothing is imported here, so ``mapper.runtime.errors`` stays cheap to import.
"""
