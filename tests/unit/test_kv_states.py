"""The store of saved model states: bounded in bytes, least recently used out first."""

from __future__ import annotations

from lsp_server.model.kv_states import SavedState, StateStore, common_prefix


def state(n: int, size: int) -> SavedState:
    return SavedState(tuple(range(n)), object(), size)


def test_store_keeps_to_its_byte_cap_dropping_the_oldest() -> None:
    store = StateStore(100)
    store.put("a", state(3, 40))
    store.put("b", state(3, 40))
    store.put("c", state(3, 40))  # a goes
    assert store.take("a") is None
    assert store.bytes == 80 and len(store) == 2
    assert store.take("b") is not None  # taken: it is the model's again
    assert store.take("b") is None and store.bytes == 40


def test_store_replaces_a_key_and_refuses_what_cannot_fit() -> None:
    store = StateStore(100)
    store.put("a", state(3, 60))
    store.put("a", state(4, 70))
    assert store.bytes == 70 and len(store) == 1
    store.put("big", state(9, 101))
    assert store.take("big") is None and store.bytes == 70
    off = StateStore(0)
    off.put("a", state(3, 1))
    assert len(off) == 0


def test_common_prefix() -> None:
    assert common_prefix([1, 2, 3], (1, 2, 4, 5)) == 2
    assert common_prefix([], (1,)) == 0
