"""The runtime: serves a compiled plan from its databases.

| module | what |
|---|---|
| ``gateway`` | :class:`Gateway`: databases, stores, the initial import, health, autosync on/off |
| ``store`` | :class:`ObjectStore`: get/find/lookup/all, create/replace/delete, syncs of one object type |
| ``records`` | :class:`Record` (what the cache keeps) and :class:`Codec` (records <-> SCIM resources) |
| ``values`` | single values: database -> SCIM JSON, client JSON -> what each dialect binds |
| ``cache`` | records and look-up indexes; syncs swap whole states in |
| ``loading`` | worker-thread reads: one object, full imports, deltas, the watermark |
| ``database`` | one engine per source, statements compiled once, transactions in worker threads |
| ``autosync`` | the background delta/full import loop |
| ``coherence`` | other gateway processes' writes: LISTEN/NOTIFY or a polled change log, re-read by anchor |
| ``locks`` | per-key locks for writes |
| ``errors`` | the errors the SCIM front end maps to responses |

Nothing is imported here, so ``mapper.runtime.errors`` stays cheap to import.
"""
