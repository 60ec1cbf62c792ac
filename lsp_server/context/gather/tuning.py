"""The numbers that tune repository context, in one place. docs/context.md tells what each one
was measured against. The time budget is not here: it is a setting (`context.timeBudgetMs`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ContextTuning:
    # -- the share (`completion.contextFiles` tokens) --
    chars_per_token: int = 3  # the share is counted in characters: about 3 per token of code
    entry_overhead_chars: int = 16  # a shown definition or chunk costs this beyond its text
    file_overhead_chars: int = 8  # a context file costs this beyond its path and preamble

    # -- names near the cursor --
    near_lines: int = 10  # identifiers this many lines above and below the band count as used
    near_band: int = 8  # the cursor's window moves in bands: the context stays while one types

    # -- the use scan: names used farther from the cursor --
    max_use_scan: int = 256 * 1024  # characters of a file scanned (a longer file keeps defaults)
    use_window_lines: int = 300  # lines around the band searched for what the code there calls
    max_far_names: int = 64  # only the nearest this many far names: each costs index look-ups
    max_far_definitions: int = 32  # a far name defined more often than this says little
    frequent_uses: int = 4  # a far name's distance is divided by its uses, at most this

    # -- ranking definitions --
    max_defs_per_name: int = 2  # definitions shown per name (and classes followed per base)
    ambiguous: int = 6  # an imported name not found where it is imported from: over this, none
    base_depth: int = 3  # base classes of the classes in scope followed this many steps up
    sibling_span: int = 2  # neighbours of a used definition taken on each side, in its group
    max_sibling_sources: int = 8  # definitions near the cursor whose neighbours are looked at
    rare_word: int = 3  # a word shared by at most this many candidate names tells them apart
    shared_word_divisor: int = 4  # a name sharing a rare word with a near one ranks this closer
    max_shared_words: int = 2  # ... for at most this many shared words
    max_gap: int = 2  # missing members filled in between two shown ones of a group

    # -- recent chunks --
    chunk_lines: int = 32  # lines of a recently edited or viewed region kept
    ring_size: int = 16  # recent chunks kept
    duplicate_jaccard: float = 0.7  # a chunk this like a newer one (line sets) is dropped
    min_shared_names: int = 2  # a chunk is shown only if it names this many names near the cursor

    # -- similar code (RepoCoder's sliding window) --
    similar_lines: int = 12  # lines above the band compared, and the window's length
    similar_step: int = 4  # windows start every this many lines
    similar_shown_before: int = 6  # lines of the matched window shown, before what follows it
    min_similarity: float = 0.4  # Jaccard of the word sets; at 0.3, no more answers won
    min_query_words: int = 8  # fewer words above the cursor ask nothing: too little to compare
    max_similar_files: int = 16  # files searched: the current one's folder, imports, recent
    max_similar_bytes: int = 128 * 1024  # larger files are not searched
    similar_cache_files: int = 64  # files kept as word sets between searches
    similar_share_part: int = 2  # the similar code takes at most 1/this of the share

    # -- the service --
    reindex_delay_s: float = 0.5  # an edited document is re-extracted this long after typing

    @property
    def imported_distance(self) -> int:
        """The distance an imported name with no known use ranks at: past the near window."""
        return 3 * self.near_lines

    @property
    def similar_shown_after(self) -> int:
        """Lines shown after the matched window: the band being written, and a little more."""
        return self.near_band + 4


DEFAULT_TUNING = ContextTuning()
