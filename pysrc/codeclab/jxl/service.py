"""What the page calls (through codeclab.browser.adapter): inspect, truncation, reorder, load_plan.

Plain Python in, JSON-able dicts (and bytes) out; offsets are FILE offsets
(container-aware) so the page can slice the file it holds.
"""

from __future__ import annotations

import math

from .container import open_jxl
from .errors import JxlFormatError, JxlUnsupportedError
from .headers import BLEND_MODES
from .order import center_first_permutation, clamp_center, implied_center_group
from .orientation import display_size, pixel_to_codestream, rect_to_display
from .partial import truncation_summary
from .sections import Frame, ParsedFile, parse_file
from .writer import rebuild_file, rewrite_codestream, rewritten_codestream


def _frame_dict(parsed: ParsedFile, frame: Frame) -> dict:
    fh = frame.header
    jxl = parsed.file
    toc = []
    for sec in sorted(frame.sections, key=lambda s: s.stream_position):
        toc.append({
            "kind": sec.kind, "pass": sec.pass_index, "group": sec.group,
            "rect": list(sec.rect) if sec.rect else None,
            "offset": jxl.file_offset(sec.start), "size": sec.size,
            "index": sec.index,
        })
    permuted = frame.toc.permuted
    center_group = (implied_center_group(frame.toc.permutation, fh.num_lf_groups, fh.num_groups)
                    if permuted and len(frame.sections) > 1 else None)
    return {
        "index": frame.index, "encoding": fh.encoding_name, "frame_type": fh.frame_type_name,
        "width": fh.width, "height": fh.height, "x0": fh.x0, "y0": fh.y0,
        "upsampling": fh.upsampling, "group_dim": fh.group_dim, "passes": fh.num_passes,
        "num_groups": fh.num_groups, "num_lf_groups": fh.num_lf_groups,
        "groups_x": fh.groups_x, "groups_y": fh.groups_y,
        "permuted": permuted, "is_last": fh.is_last, "name": fh.name, "duration": fh.duration,
        "header_offset": jxl.file_offset(frame.start),
        "data_offset": jxl.file_offset(frame.toc.data_start),
        "end_offset": jxl.file_end(frame.end),
        "toc": toc, "center_group": center_group,
        "header": {
            "flags": fh.flags, "do_ycbcr": fh.do_ycbcr, "jpeg_upsampling": list(fh.jpeg_upsampling),
            "ec_upsampling": list(fh.ec_upsampling), "x_qm_scale": fh.x_qm_scale, "b_qm_scale": fh.b_qm_scale,
            "lf_level": fh.lf_level, "have_crop": fh.have_crop, "blend_mode": BLEND_MODES[fh.blending.mode],
            "save_as_reference": fh.save_as_reference, "save_before_ct": fh.save_before_ct,
            "pass_shift": list(fh.passes.shift), "downsample": list(fh.passes.downsample),
            "gaborish": fh.restoration_filter.gab, "epf_iters": fh.restoration_filter.epf_iters,
            "extension_bits": fh.extension_bits,
        },
    }


def _icc_description(profile: bytes | None) -> str | None:
    """The profile's colour space and device class from the ICC header (e.g. 'RGB /mntr')."""
    if not profile or len(profile) < 20:
        return None
    return f"{profile[16:20].decode('latin-1').strip()} /{profile[12:16].decode('latin-1').strip()}"


def _inspect_parsed(parsed: ParsedFile, name: str | None = None) -> dict:
    jxl, cs = parsed.file, parsed.codestream
    md = cs.metadata
    return {
        "name": name, "size": len(jxl.data), "container": jxl.container,
        "width": cs.size.width, "height": cs.size.height, "orientation": md.orientation,
        # the image as a viewer shows it (turned by the orientation): the page draws in these pixels
        "display_width": display_size(cs.size.width, cs.size.height, md.orientation)[0],
        "display_height": display_size(cs.size.width, cs.size.height, md.orientation)[1],
        "bits_per_sample": md.bit_depth.bits_per_sample, "xyb_encoded": md.xyb_encoded,
        "extra_channels": [{"type": ec.type, "name": ec.name, "bits": ec.bit_depth.bits_per_sample}
                           for ec in md.extra_channels],
        "has_alpha": any(ec.type == 0 for ec in md.extra_channels),
        "icc_size": len(cs.icc_profile) if cs.icc_profile is not None else None,
        "icc_encoded_size": len(cs.icc_stream) if cs.icc_stream is not None else None,
        "icc_description": _icc_description(cs.icc_profile),
        "animation": md.animation is not None,
        "preview": ({"width": md.preview.width, "height": md.preview.height} if md.preview else None),
        "frames": [_frame_dict(parsed, f) for f in cs.frames],
        "boxes": [{"type": b.type, "offset": b.offset, "size": b.size} for b in jxl.boxes],
        "codestream_ranges": [[s, e] for s, e in jxl.ranges],
    }


def inspect(data: bytes, name: str | None = None) -> dict:
    return _inspect_parsed(parse_file(bytes(data)), name)


def truncation(data: bytes) -> dict:
    """``{"truncated": False}`` for a whole file; for a file cut off part-way, what its bytes hold (the groups
    that are complete, the size the TOC promises: ``partial.truncation_summary``). Any other malformation
    raises the whole-file parser's error."""
    data = bytes(data)
    try:
        parse_file(data)
    except JxlFormatError as whole_file_error:
        try:
            summary = truncation_summary(data)
        except JxlFormatError:
            raise whole_file_error from None
        if not summary["truncated"]:
            raise
        return summary
    return {"truncated": False, "size": len(data)}


def frame_center_permutation(frame: Frame, center: tuple[float, float]) -> list[int] | None:
    """libjxl's permutation for this frame around an image-pixel centre (None: nothing to permute)."""
    fh = frame.header
    if fh.num_toc_entries == 1:
        return None
    scale = fh.upsampling
    x, y = clamp_center((center[0] - fh.x0) / scale, (center[1] - fh.y0) / scale, fh.sample_width, fh.sample_height)
    return center_first_permutation(x, y, fh.groups_x, fh.groups_y, fh.group_dim, fh.num_lf_groups, fh.num_passes)


def codestream_center(parsed: ParsedFile, center: list[float]) -> list[float]:
    """A centre given on the displayed image (what a person or the attention model sees) -> the
    codestream pixel it is stored at, through the image's orientation."""
    cs = parsed.codestream
    return list(pixel_to_codestream(center[0], center[1], cs.size.width, cs.size.height, cs.metadata.orientation))


def plan_permutations(parsed: ParsedFile, center: list[float] | None, order: str) -> dict[int, list[int] | None]:
    plan: dict[int, list[int] | None] = {}
    if center is not None:
        center = codestream_center(parsed, center)
    for frame in parsed.codestream.frames:
        fh = frame.header
        if order == "scanline":
            plan[frame.index] = None
            continue
        if not fh.is_displayed:
            continue  # LF / reference-only frames are not shown group by group: kept as stored
        perm = frame_center_permutation(frame, (center[0], center[1]))
        if perm is not None:
            plan[frame.index] = perm
    return plan


def _rewrite(data: bytes, center: list[float] | None, order: str):
    """The rewritten file, with what it was made from: the original's parse, the plan, the segments."""
    parsed = parse_file(bytes(data))
    if order not in ("center", "scanline"):
        raise JxlUnsupportedError(f"unknown order {order!r} (use 'center' or 'scanline')")
    if order == "center":
        center = _check_center(center)
    plan = plan_permutations(parsed, center, order)
    new_cs, segments = rewrite_codestream(parsed.file.codestream, parsed.codestream, plan)
    return rebuild_file(parsed.file, new_cs, segments), parsed, plan, segments


def reorder_bytes(data: bytes, center: list[float] | None = None, order: str = "center") -> bytes:
    return _rewrite(data, center, order)[0]


def reorder(data: bytes, center: list[float] | None = None, order: str = "center") -> dict:
    """The rewritten file and its description (derived from the original's parse, not read again)."""
    new, parsed, plan, segments = _rewrite(data, center, order)
    described = ParsedFile(open_jxl(new), rewritten_codestream(parsed.codestream, segments, plan))
    return {"data": new, "info": _inspect_parsed(described), "changed": new != bytes(data)}


def main_frame(parsed: ParsedFile) -> Frame:
    """The first displayed frame (regular or skip-progressive)."""
    for frame in parsed.codestream.frames:
        if frame.header.is_displayed:
            return frame
    return parsed.codestream.frames[0]


def _check_center(center) -> list[float]:
    """[x, y] as finite floats (the page may send anything)."""
    try:
        x, y = (float(v) for v in center)
    except (TypeError, ValueError) as err:
        raise JxlUnsupportedError(f"center must be [x, y] in image pixels, got {center!r}") from err
    if not (math.isfinite(x) and math.isfinite(y)):
        raise JxlUnsupportedError(f"center must be finite, got {center!r}")
    return [x, y]


def load_plan(data: bytes, center: list[float]) -> dict:
    """When each group of the shown frame is complete, for a centre on the displayed image.
    Group rectangles are displayed-image pixels (turned by the orientation, like the centre)."""
    center = _check_center(center)
    parsed = parse_file(bytes(data))
    center = codestream_center(parsed, center)
    size, orientation = parsed.codestream.size, parsed.codestream.metadata.orientation
    jxl = parsed.file
    frame = main_frame(parsed)
    fh = frame.header
    before = max((jxl.file_end(f.end) for f in parsed.codestream.frames if f.index < frame.index), default=0)
    global_kinds = ("lf_global", "lf_group", "hf_global")
    lf_complete = max([jxl.file_end(s.start + s.size) for s in frame.sections if s.kind in global_kinds] + [before,
                      jxl.file_offset(frame.toc.data_start)])
    # one pass over the sections (a frame may have 65,536 of them): each group's last byte and rectangle
    group_end: dict[int, int] = {}
    group_rect: dict[int, tuple[int, int, int, int]] = {}
    for sec in frame.sections:
        if sec.kind in ("pass_group", "single"):
            group_end[sec.group] = max(group_end.get(sec.group, 0), jxl.file_end(sec.start + sec.size))
            group_rect.setdefault(sec.group, sec.rect)
    groups = []
    for g in range(fh.num_groups):
        done = group_end[g]
        groups.append({"group": g, "rect": rect_to_display(group_rect[g], size.width, size.height, orientation),
                       "complete_at": max(done, lf_complete),
                       "sections_end": done})
    cx, cy = clamp_center((center[0] - fh.x0) / fh.upsampling, (center[1] - fh.y0) / fh.upsampling,
                          fh.sample_width, fh.sample_height)
    center_group = (cy // fh.group_dim) * fh.groups_x + cx // fh.group_dim
    return {"total": len(jxl.data), "lf_complete_at": lf_complete, "groups": groups,
            "center_group": center_group, "bytes_to_center": groups[center_group]["complete_at"],
            "frame_index": frame.index}
