"""Records in a temporary file: what is appended is what is read, here and in workers."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cv_excel.parallel import ordered_map, share, shared
from cv_excel.spill import Spill


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
