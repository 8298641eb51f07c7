"""How each kind of node looks: one place for the palette.

Data nodes are square boxes, compute nodes rounded boxes, collapsed module calls
box-shaped cards, so the alternation data -> op -> data reads at a glance. Colours are
soft fills with a stronger border of the same hue (Tailwind's 100 and 500 shades).
"""

from __future__ import annotations

from enum import Enum

FONT = "Helvetica,Arial,sans-serif"


class Kind(Enum):
    """The role a node plays in the drawing."""

    INPUT = "input"  # a leaf that does not require grad: data fed in
    PARAMETER = "parameter"  # a leaf that requires grad: what training updates
    CONSTANT = "constant"  # a raw number or array given to an op
    INTERMEDIATE = "intermediate"  # a tensor computed by an op
    OUTPUT = "output"  # a tensor the drawing was asked for
    OP = "op"  # a compute node
    MODULE = "module"  # a collapsed module call
    NONFINITE = "nonfinite"  # any data node holding a NaN or an infinity
    CULPRIT = "culprit"  # the op an AnomalyError blames


KIND_ATTRIBUTES: dict[Kind, dict[str, str]] = {
    Kind.INPUT: {"shape": "box", "style": "filled", "fillcolor": "#dbeafe", "color": "#3b82f6"},
    Kind.PARAMETER: {
        "shape": "box",
        "style": "filled",
        "fillcolor": "#dcfce7",
        "color": "#22c55e",
    },
    Kind.CONSTANT: {
        "shape": "box",
        "style": "filled,dashed",
        "fillcolor": "#f8fafc",
        "color": "#94a3b8",
        "fontcolor": "#475569",
    },
    Kind.INTERMEDIATE: {
        "shape": "box",
        "style": "filled",
        "fillcolor": "#f8fafc",
        "color": "#94a3b8",
    },
    Kind.OUTPUT: {
        "shape": "box",
        "style": "filled,bold",
        "fillcolor": "#fef3c7",
        "color": "#f59e0b",
    },
    Kind.OP: {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#e0e7ff",
        "color": "#6366f1",
        "fontcolor": "#1e1b4b",
    },
    Kind.MODULE: {
        "shape": "box3d",
        "style": "filled",
        "fillcolor": "#ede9fe",
        "color": "#8b5cf6",
        "fontcolor": "#2e1065",
    },
    Kind.NONFINITE: {
        "shape": "box",
        "style": "filled,bold",
        "fillcolor": "#fee2e2",
        "color": "#dc2626",
        "fontcolor": "#7f1d1d",
    },
    Kind.CULPRIT: {
        "shape": "box",
        "style": "rounded,filled,bold",
        "fillcolor": "#fecaca",
        "color": "#b91c1c",
        "fontcolor": "#7f1d1d",
        "penwidth": "2.5",
    },
}

#: The path from an anomaly's culprit to the output: its nodes' borders and its edges.
ANOMALY_PATH = {"color": "#dc2626", "penwidth": "2"}

GRAPH_ATTRIBUTES = {
    "fontname": FONT,
    "fontsize": "11",
    "bgcolor": "white",
    "nodesep": "0.25",
    "ranksep": "0.3",
    "pad": "0.2",
}
NODE_ATTRIBUTES = {"fontname": FONT, "fontsize": "11", "margin": "0.12,0.05", "height": "0.3"}
EDGE_ATTRIBUTES = {"color": "#64748b", "arrowsize": "0.7"}
CONSTANT_EDGE_ATTRIBUTES = {"style": "dashed", "color": "#94a3b8"}
CLUSTER_ATTRIBUTES = {
    "style": "rounded,filled",
    "fillcolor": "#f8fafc80",
    "color": "#cbd5e1",
    "fontcolor": "#475569",
    "fontsize": "10",
    "labeljust": "l",
}


def attribute_list(attributes: dict[str, str]) -> str:
    """``key="value", ...`` for a DOT attribute list; values are quoted."""
    return ", ".join(f'{key}="{value}"' for key, value in attributes.items())


#: Each kind's attributes, formatted once: drawing 5,000 nodes reuses these strings.
NODE_STYLE: dict[Kind, str] = {
    kind: attribute_list(attrs) for kind, attrs in KIND_ATTRIBUTES.items()
}


#: The backprop player's marks (HTML and GIF): the op whose backward runs, the tensors a
#: gradient arrives at, what is done, a tensor still waiting for some of its gradients.
PLAYER = {
    "current_fill": "#fde68a",
    "current_line": "#b45309",
    "arriving_line": "#d97706",
    "done_line": "#16a34a",
    "done_fill": "#dcfce7",
    "partial_line": "#f59e0b",
    "note_fill": "#fffbeb",
    "note_text": "#78350f",
}
