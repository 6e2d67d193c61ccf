"""Codestream headers: SizeHeader, ImageMetadata (+ transform data) and FrameHeader.

Field order and conditions follow the JPEG XL specification (ISO/IEC 18181-1)
as libjxl reads it; extensions are skipped by their declared bit counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .bitreader import BitReader, Bits, Val, unpack_signed

SIZE_DIST = (Bits(9, 1), Bits(13, 1), Bits(18, 1), Bits(30, 1))
PREVIEW_DIV8_DIST = (Val(16), Val(32), Bits(5, 1), Bits(9, 33))
PREVIEW_DIST = (Bits(6, 1), Bits(8, 65), Bits(10, 321), Bits(12, 1345))
CROP_DIST = (Bits(8), Bits(11, 256), Bits(14, 2304), Bits(30, 18688))
NAME_LEN_DIST = (Val(0), Bits(4), Bits(5, 16), Bits(10, 48))
UPSAMPLING_DIST = (Val(1), Val(2), Val(4), Val(8))

FRAME_TYPES = ("regular", "lf", "reference_only", "skip_progressive")
ENCODINGS = ("VarDCT", "Modular")
BLEND_MODES = ("replace", "add", "blend", "muladd", "mul")
FLAG_USE_LF_FRAME = 0x20
EC_ALPHA, EC_SPOT, EC_CFA = 0, 2, 5
CS_RGB, CS_GREY, CS_XYB, CS_UNKNOWN = 0, 1, 2, 3
WP_CUSTOM, PR_CUSTOM = 2, 2


def _ratio_width(ratio: int, height: int) -> int:
    return [0, height, height * 12 // 10, height * 4 // 3, height * 3 // 2,
            height * 16 // 9, height * 5 // 4, height * 2][ratio]


@dataclass
class SizeHeader:
    width: int
    height: int


def read_size_header(br: BitReader, field_name: str = "SizeHeader") -> SizeHeader:
    if br.bool(f"{field_name}.div8"):
        height = 8 * (1 + br.read(5, f"{field_name}.ysize_div8"))
        ratio = br.read(3, f"{field_name}.ratio")
        width = 8 * (1 + br.read(5, f"{field_name}.xsize_div8")) if ratio == 0 else _ratio_width(ratio, height)
    else:
        height = br.u32(SIZE_DIST, f"{field_name}.ysize")
        ratio = br.read(3, f"{field_name}.ratio")
        width = br.u32(SIZE_DIST, f"{field_name}.xsize") if ratio == 0 else _ratio_width(ratio, height)
    return SizeHeader(width, height)


def read_preview_header(br: BitReader) -> SizeHeader:
    div8 = br.bool("preview.div8")
    height = 8 * br.u32(PREVIEW_DIV8_DIST, "preview.ysize_div8") if div8 else br.u32(PREVIEW_DIST, "preview.ysize")
    ratio = br.read(3, "preview.ratio")
    if ratio:
        width = _ratio_width(ratio, height)
    else:
        width = 8 * br.u32(PREVIEW_DIV8_DIST, "preview.xsize_div8") if div8 else br.u32(PREVIEW_DIST, "preview.xsize")
    return SizeHeader(width, height)


@dataclass
class AnimationHeader:
    tps_numerator: int
    tps_denominator: int
    num_loops: int
    have_timecodes: bool


@dataclass
class BitDepth:
    float_sample: bool = False
    bits_per_sample: int = 8
    exp_bits: int = 0


def read_bit_depth(br: BitReader, name: str) -> BitDepth:
    if br.bool(f"{name}.float_sample"):
        bits = br.u32((Val(32), Val(16), Val(24), Bits(6, 1)), f"{name}.bits_per_sample")
        return BitDepth(True, bits, 1 + br.read(4, f"{name}.exp_bits"))
    return BitDepth(False, br.u32((Val(8), Val(10), Val(12), Bits(6, 1)), f"{name}.bits_per_sample"), 0)


@dataclass
class ExtraChannelInfo:
    type: int = EC_ALPHA
    bit_depth: BitDepth = field(default_factory=BitDepth)
    dim_shift: int = 0
    name: str = ""
    alpha_associated: bool = False
    spot_color: tuple[float, ...] = ()
    cfa_channel: int = 1


def read_name(br: BitReader, name: str) -> str:
    length = br.u32(NAME_LEN_DIST, f"{name}.name_len")
    if length * 8 > br.bits_left():
        raise br.error(f"name of {length} bytes runs past the end", f"{name}.name")
    raw = bytes(br.read(8, f"{name}.name") for _ in range(length))
    return raw.decode("utf-8", errors="replace")


def read_extra_channel(br: BitReader, index: int) -> ExtraChannelInfo:
    name = f"extra_channel[{index}]"
    if br.bool(f"{name}.all_default"):
        return ExtraChannelInfo()
    info = ExtraChannelInfo(type=br.enum(f"{name}.type"))
    info.bit_depth = read_bit_depth(br, name)
    info.dim_shift = br.u32((Val(0), Val(3), Val(4), Bits(3, 1)), f"{name}.dim_shift")
    info.name = read_name(br, name)
    if info.type == EC_ALPHA:
        info.alpha_associated = br.bool(f"{name}.alpha_associated")
    if info.type == EC_SPOT:
        info.spot_color = tuple(br.f16(f"{name}.spot_color") for _ in range(4))
    if info.type == EC_CFA:
        info.cfa_channel = br.u32((Val(1), Bits(2), Bits(4, 3), Bits(8, 19)), f"{name}.cfa_channel")
    return info


@dataclass
class ColourEncoding:
    want_icc: bool = False
    colour_space: int = CS_RGB
    white_point: int = 1
    white_xy: tuple[int, int] | None = None
    primaries: int = 1
    primaries_xy: tuple[tuple[int, int], ...] | None = None
    have_gamma: bool = False
    gamma: int = 0
    transfer_function: int = 13
    rendering_intent: int = 1


def _custom_xy(br: BitReader, name: str) -> tuple[int, int]:
    dist = (Bits(19), Bits(19, 524288), Bits(20, 1048576), Bits(21, 2097152))
    return unpack_signed(br.u32(dist, f"{name}.x")), unpack_signed(br.u32(dist, f"{name}.y"))


def read_colour_encoding(br: BitReader) -> ColourEncoding:
    ce = ColourEncoding()
    if br.bool("colour_encoding.all_default"):
        return ce
    ce.want_icc = br.bool("colour_encoding.want_icc")
    ce.colour_space = br.enum("colour_encoding.colour_space")
    if not ce.want_icc:
        if ce.colour_space != CS_XYB:
            ce.white_point = br.enum("colour_encoding.white_point")
            if ce.white_point == WP_CUSTOM:
                ce.white_xy = _custom_xy(br, "colour_encoding.white")
        if ce.colour_space not in (CS_XYB, CS_GREY):
            ce.primaries = br.enum("colour_encoding.primaries")
            if ce.primaries == PR_CUSTOM:
                ce.primaries_xy = tuple(_custom_xy(br, f"colour_encoding.{c}") for c in ("red", "green", "blue"))
        ce.have_gamma = br.bool("colour_encoding.have_gamma")
        if ce.have_gamma:
            ce.gamma = br.read(24, "colour_encoding.gamma")
        else:
            ce.transfer_function = br.enum("colour_encoding.transfer_function")
        ce.rendering_intent = br.enum("colour_encoding.rendering_intent")
    return ce


@dataclass
class ToneMapping:
    intensity_target: float = 255.0
    min_nits: float = 0.0
    relative_to_max_display: bool = False
    linear_below: float = 0.0


def read_tone_mapping(br: BitReader) -> ToneMapping:
    if br.bool("tone_mapping.all_default"):
        return ToneMapping()
    return ToneMapping(br.f16("tone_mapping.intensity_target"), br.f16("tone_mapping.min_nits"),
                       br.bool("tone_mapping.relative_to_max_display"), br.f16("tone_mapping.linear_below"))


def read_extensions(br: BitReader, name: str) -> int:
    """Reads an Extensions bundle; returns the number of extension bits to skip at bundle end."""
    extensions = br.u64(f"{name}.extensions")
    total = 0
    for bit in range(64):
        if extensions >> bit & 1:
            total += br.u64(f"{name}.extension_bits")
            if total > br.bits_left():
                raise br.error("extension bits run past the end of the data", f"{name}.extension_bits")
    return total


@dataclass
class ImageMetadata:
    orientation: int = 1
    intrinsic_size: SizeHeader | None = None
    preview: SizeHeader | None = None
    animation: AnimationHeader | None = None
    bit_depth: BitDepth = field(default_factory=BitDepth)
    modular_16bit_buffers: bool = True
    extra_channels: list[ExtraChannelInfo] = field(default_factory=list)
    xyb_encoded: bool = True
    colour_encoding: ColourEncoding = field(default_factory=ColourEncoding)
    tone_mapping: ToneMapping = field(default_factory=ToneMapping)
    extension_bits: int = 0
    # CustomTransformData
    default_transform: bool = True
    opsin_inverse_matrix: tuple[float, ...] | None = None
    custom_weights_mask: int = 0
    upsampling_weights: dict = field(default_factory=dict)

    @property
    def num_extra(self) -> int:
        return len(self.extra_channels)


def read_image_metadata(br: BitReader) -> ImageMetadata:
    m = ImageMetadata()
    if not br.bool("metadata.all_default"):
        extra_fields = br.bool("metadata.extra_fields")
        if extra_fields:
            m.orientation = 1 + br.read(3, "metadata.orientation")
            if br.bool("metadata.have_intrinsic_size"):
                m.intrinsic_size = read_size_header(br, "intrinsic_size")
            if br.bool("metadata.have_preview"):
                m.preview = read_preview_header(br)
            if br.bool("metadata.have_animation"):
                m.animation = AnimationHeader(
                    br.u32((Val(100), Val(1000), Bits(10, 1), Bits(30, 1)), "animation.tps_numerator"),
                    br.u32((Val(1), Val(1001), Bits(8, 1), Bits(10, 1)), "animation.tps_denominator"),
                    br.u32((Val(0), Bits(3), Bits(16), Bits(32)), "animation.num_loops"),
                    br.bool("animation.have_timecodes"))
        m.bit_depth = read_bit_depth(br, "metadata.bit_depth")
        m.modular_16bit_buffers = br.bool("metadata.modular_16bit_buffers")
        num_extra = br.u32((Val(0), Val(1), Bits(4, 2), Bits(12, 1)), "metadata.num_extra_channels")
        m.extra_channels = [read_extra_channel(br, i) for i in range(num_extra)]
        m.xyb_encoded = br.bool("metadata.xyb_encoded")
        m.colour_encoding = read_colour_encoding(br)
        if extra_fields:
            m.tone_mapping = read_tone_mapping(br)
        m.extension_bits = read_extensions(br, "metadata")
        br.skip(m.extension_bits, "metadata.extensions")
    # CustomTransformData
    m.default_transform = br.bool("transform_data.all_default")
    if not m.default_transform:
        if m.xyb_encoded and not br.bool("opsin_inverse.all_default"):
            m.opsin_inverse_matrix = tuple(br.f16("opsin_inverse") for _ in range(9 + 3 + 4))
        m.custom_weights_mask = br.read(3, "transform_data.custom_weights_mask")
        for bit, count, name in ((1, 15, "up2"), (2, 55, "up4"), (4, 210, "up8")):
            if m.custom_weights_mask & bit:
                m.upsampling_weights[name] = tuple(br.f16(f"transform_data.{name}_weight") for _ in range(count))
    return m


@dataclass
class Passes:
    num_passes: int = 1
    shift: tuple[int, ...] = ()
    downsample: tuple[int, ...] = ()
    last_pass: tuple[int, ...] = ()


def read_passes(br: BitReader) -> Passes:
    num = br.u32((Val(1), Val(2), Val(3), Bits(3, 4)), "passes.num_passes")
    if num == 1:
        return Passes()
    num_ds = br.u32((Val(0), Val(1), Val(2), Bits(1, 3)), "passes.num_ds")
    if num_ds >= num:
        raise br.error(f"{num_ds} downsampling steps for {num} passes", "passes.num_ds")
    shift = tuple(br.read(2, "passes.shift") for _ in range(num - 1))
    downsample = tuple(br.u32(UPSAMPLING_DIST, "passes.downsample") for _ in range(num_ds))
    last_pass = tuple(br.u32((Val(0), Val(1), Val(2), Bits(3)), "passes.last_pass") for _ in range(num_ds))
    return Passes(num, shift, downsample, last_pass)


@dataclass
class BlendingInfo:
    mode: int = 0
    alpha_channel: int = 0
    clamp: bool = False
    source: int = 0


def read_blending_info(br: BitReader, name: str, num_extra: int, full_frame: bool, main_mode: int | None) -> BlendingInfo:
    mode = br.u32((Val(0), Val(1), Val(2), Bits(2, 3)), f"{name}.mode")
    if mode > 4:
        raise br.error(f"unknown blend mode {mode}", f"{name}.mode")
    info = BlendingInfo(mode)
    if num_extra and mode in (2, 3):
        info.alpha_channel = br.u32((Val(0), Val(1), Val(2), Bits(3, 3)), f"{name}.alpha_channel")
    if num_extra and mode in (2, 3, 4):
        info.clamp = br.bool(f"{name}.clamp")
    resets = (mode if main_mode is None else main_mode) == 0 and full_frame
    if not resets:
        info.source = br.read(2, f"{name}.source")
    return info


@dataclass
class RestorationFilter:
    gab: bool = True
    gab_weights: tuple[float, ...] | None = None
    epf_iters: int = 2
    epf_fields: tuple[float, ...] = ()
    extension_bits: int = 0


def read_restoration_filter(br: BitReader, modular: bool) -> RestorationFilter:
    rf = RestorationFilter()
    if br.bool("restoration_filter.all_default"):
        return rf
    rf.gab = br.bool("restoration_filter.gab")
    if rf.gab and br.bool("restoration_filter.gab_custom"):
        rf.gab_weights = tuple(br.f16("restoration_filter.gab_weights") for _ in range(6))
    rf.epf_iters = br.read(2, "restoration_filter.epf_iters")
    values: list[float] = []
    if rf.epf_iters:
        if not modular and br.bool("restoration_filter.epf_sharp_custom"):
            values += [br.f16("restoration_filter.epf_sharp_lut") for _ in range(8)]
        if br.bool("restoration_filter.epf_weight_custom"):
            values += [br.f16("restoration_filter.epf_channel_scale") for _ in range(3)]
            br.read(32, "restoration_filter.epf_reserved")
        if br.bool("restoration_filter.epf_sigma_custom"):
            if not modular:
                values.append(br.f16("restoration_filter.epf_quant_mul"))
            values += [br.f16("restoration_filter.epf_sigma") for _ in range(3)]
        if modular:
            values.append(br.f16("restoration_filter.epf_sigma_for_modular"))
    rf.epf_fields = tuple(values)
    rf.extension_bits = read_extensions(br, "restoration_filter")
    br.skip(rf.extension_bits, "restoration_filter.extensions")
    return rf


@dataclass
class FrameHeader:
    frame_type: int = 0
    encoding: int = 0
    flags: int = 0
    do_ycbcr: bool = False
    jpeg_upsampling: tuple[int, int, int] = (0, 0, 0)
    upsampling: int = 1
    ec_upsampling: tuple[int, ...] = ()
    group_size_shift: int = 1
    x_qm_scale: int = 3
    b_qm_scale: int = 2
    passes: Passes = field(default_factory=Passes)
    lf_level: int = 0
    have_crop: bool = False
    x0: int = 0
    y0: int = 0
    width: int = 0      # frame size in image pixels (before upsampling division)
    height: int = 0
    blending: BlendingInfo = field(default_factory=BlendingInfo)
    ec_blending: tuple[BlendingInfo, ...] = ()
    duration: int = 0
    timecode: int = 0
    is_last: bool = True
    save_as_reference: int = 0
    save_before_ct: bool = False
    name: str = ""
    restoration_filter: RestorationFilter = field(default_factory=RestorationFilter)
    extension_bits: int = 0

    # -- derived geometry (libjxl FrameDimensions) ---------------------------
    @property
    def encoding_name(self) -> str:
        return ENCODINGS[self.encoding]

    @property
    def frame_type_name(self) -> str:
        return FRAME_TYPES[self.frame_type]

    @property
    def sample_width(self) -> int:
        w = -(-self.width // self.upsampling)
        if self.lf_level:
            w = -(-w // (1 << (3 * self.lf_level)))
        return w

    @property
    def sample_height(self) -> int:
        h = -(-self.height // self.upsampling)
        if self.lf_level:
            h = -(-h // (1 << (3 * self.lf_level)))
        return h

    @property
    def group_dim(self) -> int:
        return 128 << self.group_size_shift

    @property
    def groups_x(self) -> int:
        return -(-self.sample_width // self.group_dim)

    @property
    def groups_y(self) -> int:
        return -(-self.sample_height // self.group_dim)

    @property
    def num_groups(self) -> int:
        return self.groups_x * self.groups_y

    @property
    def lf_groups_x(self) -> int:
        return -(-self.sample_width // (8 * self.group_dim))

    @property
    def lf_groups_y(self) -> int:
        return -(-self.sample_height // (8 * self.group_dim))

    @property
    def num_lf_groups(self) -> int:
        return self.lf_groups_x * self.lf_groups_y

    @property
    def num_passes(self) -> int:
        return self.passes.num_passes

    @property
    def num_toc_entries(self) -> int:
        if self.num_groups == 1 and self.num_passes == 1:
            return 1
        return 2 + self.num_lf_groups + self.num_groups * self.num_passes

    @property
    def is_displayed(self) -> bool:
        return self.frame_type in (0, 3)


def read_frame_header(br: BitReader, metadata: ImageMetadata, size: SizeHeader) -> FrameHeader:
    fh = FrameHeader(width=size.width, height=size.height)
    num_extra = metadata.num_extra
    fh.ec_upsampling = (1,) * num_extra
    fh.x_qm_scale = 3 if metadata.xyb_encoded else 2
    if br.bool("frame.all_default"):
        fh.blending = BlendingInfo()
        fh.ec_blending = tuple(BlendingInfo() for _ in range(num_extra))
        return _checked_frame_size(br, fh)
    fh.frame_type = br.read(2, "frame.frame_type")
    fh.encoding = br.read(1, "frame.encoding")
    fh.flags = br.u64("frame.flags")
    if not metadata.xyb_encoded:
        fh.do_ycbcr = br.bool("frame.do_YCbCr")
    if not fh.flags & FLAG_USE_LF_FRAME:
        if fh.do_ycbcr:
            fh.jpeg_upsampling = tuple(br.read(2, "frame.jpeg_upsampling") for _ in range(3))
        fh.upsampling = br.u32(UPSAMPLING_DIST, "frame.upsampling")
        fh.ec_upsampling = tuple(br.u32(UPSAMPLING_DIST, "frame.ec_upsampling") for _ in range(num_extra))
    if fh.encoding == 1:
        fh.group_size_shift = br.read(2, "frame.group_size_shift")
    if fh.encoding == 0 and metadata.xyb_encoded:
        fh.x_qm_scale = br.read(3, "frame.x_qm_scale")
        fh.b_qm_scale = br.read(3, "frame.b_qm_scale")
    if fh.frame_type != 2:
        fh.passes = read_passes(br)
    if fh.frame_type == 1:
        fh.lf_level = 1 + br.read(2, "frame.lf_level")
    else:
        fh.have_crop = br.bool("frame.have_crop")
    if fh.have_crop:
        if fh.frame_type != 2:
            fh.x0 = unpack_signed(br.u32(CROP_DIST, "frame.x0"))
            fh.y0 = unpack_signed(br.u32(CROP_DIST, "frame.y0"))
        fh.width = br.u32(CROP_DIST, "frame.width")
        fh.height = br.u32(CROP_DIST, "frame.height")
    full_frame = (not fh.have_crop) or (fh.x0 <= 0 and fh.y0 <= 0 and fh.x0 + fh.width >= size.width
                                        and fh.y0 + fh.height >= size.height)
    normal = fh.frame_type in (0, 3)
    if normal:
        fh.blending = read_blending_info(br, "frame.blending", num_extra, full_frame, None)
        fh.ec_blending = tuple(read_blending_info(br, f"frame.ec_blending[{i}]", num_extra, full_frame, fh.blending.mode)
                               for i in range(num_extra))
        if metadata.animation is not None:
            fh.duration = br.u32((Val(0), Val(1), Bits(8), Bits(32)), "frame.duration")
            if metadata.animation.have_timecodes:
                fh.timecode = br.read(32, "frame.timecode")
        fh.is_last = br.bool("frame.is_last")
    else:
        fh.is_last = False
    if fh.frame_type != 1 and not fh.is_last:
        fh.save_as_reference = br.read(2, "frame.save_as_reference")
    resets = fh.blending.mode == 0 and full_frame
    if fh.frame_type == 2 or (resets and not fh.is_last and fh.frame_type != 1
                              and (fh.duration == 0 or fh.save_as_reference != 0)):
        fh.save_before_ct = br.bool("frame.save_before_ct")
    else:
        fh.save_before_ct = not normal
    fh.name = read_name(br, "frame")
    fh.restoration_filter = read_restoration_filter(br, fh.encoding == 1)
    fh.extension_bits = read_extensions(br, "frame")
    br.skip(fh.extension_bits, "frame.extensions")
    return _checked_frame_size(br, fh)


MAX_SECTIONS = 1 << 16
#: A TOC entry is a U32 of at least 2 selector bits + 10 value bits.
MIN_TOC_ENTRY_BITS = 12


def _checked_frame_size(br: BitReader, fh: FrameHeader) -> FrameHeader:
    """Every frame header (all-default or not) passes here: its section count is bounded by
    libjxl's limit and by what the remaining bytes can hold, so later work is linear in the file."""
    if fh.width == 0 or fh.height == 0:
        raise br.error(f"frame has zero width or height ({fh.width}x{fh.height})", "frame.width")
    entries = fh.num_toc_entries
    if entries > MAX_SECTIONS:
        raise br.error(f"frame of {fh.width}x{fh.height} needs {entries} sections (at most {MAX_SECTIONS})",
                       "frame.toc")
    if entries * MIN_TOC_ENTRY_BITS > br.bits_left():
        raise br.error(f"a TOC of {entries} entries needs at least {entries * MIN_TOC_ENTRY_BITS // 8} bytes, "
                       f"only {br.bits_left() // 8} remain", "frame.toc")
    return fh
