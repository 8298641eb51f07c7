"""gk.viz.saved_memory (graphkit/viz/memory.py): what the graph keeps for backward."""

import numpy as np

import graphkit as gk


def test_it_counts_the_arrays_ops_made_once_and_not_the_leaves():
    x = gk.Tensor(np.ones((10, 10)), requires_grad=True)  # a leaf: not counted
    h = x.tanh()  # 800 bytes, kept (tanh's backward reads it; exp reads it too)
    y = h.exp()  # 800 bytes
    loss = y.sum()  # 8 bytes
    memory = gk.viz.saved_memory(loss)
    assert memory.per_op == [("tanh", 800), ("exp", 800), ("sum", 8)]
    assert memory.total == 1608
    assert "total" in str(memory) and "1,608" in str(memory)


def test_saved_values_count_and_nothing_is_left_once_freed():
    x = gk.Tensor(np.ones((4, 5)), requires_grad=True)
    loss = gk.F.dropout(x, 0.5).sum()  # the mask is saved: 160 bytes, the output 160
    assert gk.viz.saved_memory(loss).per_op[0] == ("dropout", 320)
    loss.backward()
    memory = gk.viz.saved_memory(loss)
    assert memory.total == 0 and all(size == 0 for _, size in memory.per_op)


def test_a_view_counts_the_memory_it_keeps_alive_once():
    x = gk.Tensor(np.ones(6), requires_grad=True)
    h = x * 2  # 48 bytes
    v = h.reshape(2, 3)  # a view of h: nothing new
    memory = gk.viz.saved_memory((v * v).sum())
    assert memory.total == 48 + 48 + 8


def test_a_retained_graph_is_still_counted_and_a_leaf_output_has_none():
    x = gk.Tensor(np.ones(3), requires_grad=True)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    assert gk.viz.saved_memory(loss).total == 24 + 8
    assert gk.viz.saved_memory(x).total == 0 and gk.viz.saved_memory(x).per_op == []
