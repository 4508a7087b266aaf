"""The language server for mapping files (``mapper lsp``), over stdio, built on pygls.

- ``server``: the server assembled from its features, and its state;
- ``context``: the grammar's view of the cursor (which tokens may come next, which blocks are open);
- ``complete``, ``hover``, ``navigate``: completion, hover, go-to-definition and formatting;
- ``fixes``: quick fixes from the linter's "did you mean" hints;
- ``live``: the database a document reads (``--db`` checks, tables and columns), off the event loop;
- ``report``, ``positions``: the linter's diagnostics and spans in LSP terms.

Everything a mapping means comes from the one load pipeline (``mapper.lint.lint_text``) and
``mapper fmt``'s formatter; nothing here re-implements a check.
"""
