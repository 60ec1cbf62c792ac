"""Gathering repository context for a completion, in stages (`pipeline.gather` runs them):

- `names`: the names near the cursor, the file's imports, the names the code around uses;
- `classes`: the classes in scope, whose methods a member name may belong to;
- `rank`: their definitions the file can reach, best first (`Rank`), with `groups`' neighbours;
- `choose`: those that fit the share, by file, filling holes in a group (`groups.gaps`);
- `render`: each file's chosen definitions as code that parses;
- `similar`, `recent`: code like the lines above the cursor, recently edited regions;
- `pack`: the share in characters, what fits of the snippet and the chunks, and the order.

Every number that tunes them is in `tuning.ContextTuning`. The service that keeps the index,
the recent chunks and the caches up to date is `lsp_server.context.service.ContextService`.
"""
