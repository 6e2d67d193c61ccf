"""libjxl's centre-first group order, reproduced exactly (lib/jxl/enc_frame.cc).

Groups are sorted by (Chebyshev distance of the group centre from the centre
group's centre, angle), i.e. concentric squares walked clockwise, starting from
the side of the centre group nearest to the requested centre.  Only pass
groups are permuted; LF global, LF groups and HF global keep their places.

This module computes the permutation; ``toc.py`` reads and writes it in a frame's
table of contents, and ``service.reorder`` joins the two.
"""

from __future__ import annotations

import math


def center_first_group_order(center_x: int, center_y: int, groups_x: int, groups_y: int, group_dim: int) -> list[int]:
    """Group indices in the order libjxl stores them for a centre at pixel (center_x, center_y)."""
    cx = (center_x // group_dim) * group_dim + group_dim // 2
    cy = (center_y // group_dim) * group_dim + group_dim // 2
    direction = -math.atan2(center_y - cy, center_x - cx)
    # int64_t side = fmod(direction + 5pi/4, 2pi) * 2 / pi  (truncation toward zero)
    side = int(math.fmod(direction + 5 * math.pi / 4, 2 * math.pi) * 2 / math.pi)

    def key(group: int) -> tuple[int, float]:
        gcx = (group % groups_x) * group_dim + group_dim // 2
        gcy = (group // groups_x) * group_dim + group_dim // 2
        dx, dy = gcx - cx, gcy - cy
        angle = math.remainder(math.atan2(dy, dx) + math.pi / 4 + side * (math.pi / 2), 2 * math.pi)
        return max(abs(dx), abs(dy)), angle

    return sorted(range(groups_x * groups_y), key=key)


def center_first_permutation(center_x: int, center_y: int, groups_x: int, groups_y: int, group_dim: int,
                             num_lf_groups: int, num_passes: int) -> list[int]:
    """The TOC permutation (logical section -> stream position) libjxl writes."""
    order = center_first_group_order(center_x, center_y, groups_x, groups_y, group_dim)
    inverse = [0] * len(order)
    for position, group in enumerate(order):
        inverse[group] = position
    permutation = list(range(num_lf_groups + 2))
    for _ in range(num_passes):
        pass_start = len(permutation)
        permutation += [pass_start + v for v in inverse]
    return permutation


def clamp_center(x: float, y: float, width: int, height: int) -> tuple[int, int]:
    """A pixel centre inside a width x height frame (libjxl requires 0 <= c < size)."""
    return (min(max(int(math.floor(x)), 0), max(width - 1, 0)),
            min(max(int(math.floor(y)), 0), max(height - 1, 0)))


def implied_center_group(permutation: list[int], num_lf_groups: int, num_groups: int) -> int | None:
    """The group stored first among the pass-0 groups of a permuted TOC."""
    base = num_lf_groups + 2
    if len(permutation) < base + num_groups or num_groups == 0:
        return None
    first_pos = min(permutation[base:base + num_groups])
    return permutation[base:base + num_groups].index(first_pos)
