"""Groupings: one canonical form, one check, one text form and its parser (lingauss.grouping)."""

import itertools

import pytest
from hypothesis import given, settings, strategies as st

from lingauss.grouping import assignment_groups, canonical_grouping, check_partition, grouping_text, parse_grouping
from lingauss.testing import groupings


def _all_partitions(items):
    """Every set partition of ``items`` by brute force (restricted growth strings)."""
    items = list(items)
    for labels in itertools.product(range(len(items)), repeat=len(items)):
        if all(labels[j] <= max(labels[:j], default=-1) + 1 for j in range(len(items))):
            yield tuple(tuple(items[j] for j in range(len(items)) if labels[j] == k)
                        for k in sorted(set(labels)))


@pytest.mark.parametrize("s", [1, 2, 3, 4, 5])
def test_canonical_form_identifies_exactly_the_equal_partitions(s):
    # Bell(s) partitions; relabelling/reordering the blocks never changes the canonical form,
    # and distinct partitions never share one
    parts = list(_all_partitions(range(s)))
    assert len(parts) == [1, 2, 5, 15, 52][s - 1]
    canon = {canonical_grouping(p) for p in parts}
    assert len(canon) == len(parts)
    for p in parts:
        for perm in itertools.permutations(p):
            assert canonical_grouping([tuple(reversed(b)) for b in perm] + [()]) == canonical_grouping(p)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9).flatmap(lambda s: st.tuples(st.just(s), groupings(s))))
def test_text_round_trips_through_the_parser(sg):
    s, g = sg
    text = grouping_text(g)
    assert text.startswith("{v") and "v0" not in text          # 1-based
    assert parse_grouping(text, s) == g
    short = "|".join(",".join(str(j + 1) for j in block) for block in g)
    assert parse_grouping(short, s) == g
    names = [f"f{j}" for j in range(s)]
    assert parse_grouping(grouping_text(g, names), s, names=names) == g


def test_text_form_examples():
    assert grouping_text(((0, 1), (2,))) == "{v1,v2}{v3}"
    assert grouping_text(()) == "{}"
    assert grouping_text(None) == ""


@pytest.mark.parametrize("groups, detail", [
    ([[0], [0, 1]], "missing [2]; repeated [0]"),
    ([[0, 1], [2, 3]], "out of range [3]"),
    ([[1, 2]], "missing [0]"),
])
def test_check_partition_names_the_argument_and_the_defect(groups, detail):
    with pytest.raises(ValueError, match="true_grouping must partition") as info:
        check_partition(groups, 3, name="true_grouping")
    assert detail in str(info.value)


@pytest.mark.parametrize("bad", ["01", [["a"]], [[True, 0]], [], [[]], 3])
def test_check_partition_refuses_non_partitions(bad):
    with pytest.raises(ValueError, match="^arg "):
        check_partition(bad, name="arg")


@pytest.mark.parametrize("text", ["", "{v1}{", "v1,v2x", "{v0}{v1}", "1,,2", "{x}", "1|2|2"])
def test_parse_refuses_malformed_text(text):
    with pytest.raises(ValueError, match="truth"):
        parse_grouping(text, 2, name="truth")


def test_assignment_groups_are_labelled_by_latent_and_drop_labels_in_canonical_form():
    assert assignment_groups((2, 0, 2, 0), 3) == ((1, 3), (), (0, 2))
    assert canonical_grouping(assignment_groups((2, 0, 2, 0), 3)) == ((0, 2), (1, 3))
    # every assignment of 4 factors to 3 latents: each factor in exactly the group of its latent
    for a in itertools.product(range(3), repeat=4):
        groups = assignment_groups(a, 3)
        assert len(groups) == 3 and sorted(j for g in groups for j in g) == [0, 1, 2, 3]
        assert all(a[j] == i for i, g in enumerate(groups) for j in g)
