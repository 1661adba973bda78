"""Records in a temporary file: what is appended is what is read, here and in workers."""

from __future__ import annotations

import os
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cv_excel.parallel import ordered_map, share, shared
from cv_excel.spill import Spill, SpilledDict, SpilledList


@given(st.lists(st.binary(max_size=300), max_size=40))
def test_every_record_reads_back_as_written(records: list[bytes]) -> None:
    spill = Spill()
    try:
        ranks = [spill.append(r) for r in records]
        assert ranks == list(range(len(records)))
        assert len(spill) == len(records)
        assert [spill[i] for i in reversed(ranks)] == records[::-1]
        spill.append(b"after a read")  # appending after reading goes on at the end
        assert spill[len(records)] == b"after a read"
        assert [spill[i] for i in ranks] == records
    finally:
        spill.close()


def _read(rank: int) -> bytes:
    return shared("spill")[rank]


def test_forked_workers_read_their_own_records_at_once() -> None:
    records = [os.urandom(n % 97 + 1) * (n % 5 + 1) for n in range(300)]
    spill = Spill()
    for record in records:
        spill.append(record)
    spill.seal()
    got = list(ordered_map(_read, range(len(records)), workers=2, chunk=3,
                           init=share, init_args=({"spill": spill},)))
    assert got == records
    assert spill[0] == records[0]  # the parent reads on, unaffected
    spill.close()


def test_the_file_has_no_name_and_goes_with_close() -> None:
    spill = Spill("cv_excel-essai-")
    spill.append(b"x")
    fd = spill._file.fileno()
    target = os.readlink(f"/proc/self/fd/{fd}")
    assert "(deleted)" in target or "/#" in target  # unlinked, or made without a name
    spill.close()
    with pytest.raises(OSError):
        os.fstat(fd)


# --- objects on disk, as a list or a dict ---------------------------------------------------
_ITEMS = st.lists(st.tuples(st.text(max_size=5), st.integers()), max_size=30)


@given(_ITEMS)
def test_a_spilled_list_answers_as_the_list(items: list[tuple[str, int]]) -> None:
    spilled = SpilledList(items, key=lambda item: item[0])
    assert len(spilled) == len(items)
    assert list(spilled) == items and spilled == items and items == spilled
    assert spilled[::-2] == items[::-2] and spilled[1:3] == items[1:3]
    for i in range(-len(items), len(items)):
        assert spilled[i] == items[i]
    for i in (len(items), -len(items) - 1):
        with pytest.raises(IndexError):
            spilled[i]
    assert list(spilled.by_key()) == sorted(items, key=lambda item: item[0])  # stable
    assert pickle.loads(pickle.dumps(spilled)) == items  # a plain list once pickled
    assert type(pickle.loads(pickle.dumps(spilled))) is list
    if items:
        assert spilled != items[:-1]


@given(_ITEMS)
def test_a_spilled_dict_answers_as_the_sorted_dict(pairs: list[tuple[str, int]]) -> None:
    expected = dict(sorted(dict(pairs).items()))  # the last value of a key kept
    spilled = SpilledDict(pairs)
    assert spilled == expected and expected == spilled
    assert list(spilled) == list(expected) and list(spilled.items()) == list(expected.items())
    assert len(spilled) == len(expected)
    for key in expected:
        assert key in spilled and spilled[key] == expected[key]
    assert "absent!" not in spilled and spilled.get("absent!") is None
    copy = pickle.loads(pickle.dumps(spilled))
    assert type(copy) is dict and copy == expected


def test_a_list_without_keys_has_no_key_order() -> None:
    with pytest.raises(TypeError):
        list(SpilledList([1, 2]).by_key())


def _load_third(i: int) -> int:
    return shared("liste")[i * 3][1]


def test_forked_workers_read_the_objects() -> None:
    items = [(f"n{i:04d}", i) for i in range(300)]
    spilled = SpilledList(items, key=lambda item: item[0])
    assert list(ordered_map(_load_third, range(100), workers=2, init=share,
                            init_args=({"liste": spilled},))) == list(range(0, 300, 3))
