"""SMPTE time codes as EXR headers hold them (`timeCode`; OpenImageIO's `smpte:TimeCode`: the
time and flags packed as SMPTE 12M's 60-field code is, and user data): moved by a number of
frames, for a frame --missing hold writes under another number (`denoised_frame`), and turned
into OpenEXR's `TimeCode` for its writer."""

from __future__ import annotations

from fractions import Fraction

import OpenEXR

# SMPTE time code (`ExrPart.timecode`, packed as SMPTE 12M's 60-field code): the flag bits, kept
# as they are when a time code is advanced (drop frame, colour frame, field phase, binary groups).
_DROP_FRAME, _COLOR_FRAME, _FIELD_PHASE = 1 << 6, 1 << 7, 1 << 15
_BGF0, _BGF1, _BGF2 = 1 << 23, 1 << 30, 1 << 31
_TIMECODE_FLAGS = _DROP_FRAME | _COLOR_FRAME | _FIELD_PHASE | _BGF0 | _BGF1 | _BGF2
# Where each field's two binary-coded decimal digits sit, and the bits its tens digit has.
_FIELDS = {"hours": (24, 0x3), "minutes": (16, 0x7), "seconds": (8, 0x7), "frame": (0, 0x3)}
_DROP_FRAME_RATE = 30  # the nominal rate of the one drop-frame code advanced, 29.97's
_MAX_FRAME_RATE = 30  # time codes above count frame pairs, by conventions that vary
# How far a rate may be from its time code's whole number of frames a second (23.976 from 24).
_RATE_TOLERANCE = Fraction(1, 500)


def advanced(timecode: tuple[int, int], frames: int, rate: Fraction | None) -> tuple[int, int] | None:
    """An SMPTE `timecode` (`ExrPart.timecode`) advanced by `frames` (negative: back)
    at frame `rate` (`framesPerSecond`), so that it reads as the frame it stands for would: a
    held frame keeping its source's time code would repeat it, and editorial tools go by time
    codes. Non-drop-frame codes at rates up to 30 (23.976 counts as 24, as its time code does)
    and drop-frame codes at 29.97 are advanced, wrapping at 24 hours, their flags and user data
    kept. None, for the time code to be left out rather than be wrong, where it cannot be
    advanced safely: the rate unknown (no `framesPerSecond`) or above 30 (codes of frame pairs),
    a drop-frame code at another rate, or a time code that is no valid one at its rate."""
    packed, user_data = timecode
    drop = bool(packed & _DROP_FRAME)
    nominal = round(rate) if rate is not None else 0
    if not 1 <= nominal <= _MAX_FRAME_RATE or abs(rate / nominal - 1) > _RATE_TOLERANCE:
        return None
    if drop and (nominal != _DROP_FRAME_RATE or rate == nominal):  # drop frame is 29.97's alone
        return None
    count = _count(packed, nominal, drop)
    if count is None:
        return None
    packed = packed & _TIMECODE_FLAGS
    for (shift, _), value in zip(_FIELDS.values(), _fields(count + frames, nominal, drop)):
        packed |= (value // 10 << 4 | value % 10) << shift
    return packed, user_data


def _count(packed: int, nominal: int, drop: bool) -> int | None:
    """Frames since 00:00:00:00 of a packed time code; None if it is no valid code at the rate."""
    hours, minutes, seconds, frame = _decoded(packed)
    units = (packed >> shift & 0xF for shift, _ in _FIELDS.values())
    if (max(units) > 9 or hours > 23 or minutes > 59 or seconds > 59 or frame >= nominal
            or (drop and seconds == 0 and minutes % 10 and frame < 2)):  # labels drop-frame skips
        return None
    total_minutes = 60 * hours + minutes
    skipped = 2 * (total_minutes - total_minutes // 10) if drop else 0
    return (60 * total_minutes + seconds) * nominal + frame - skipped


def _fields(count: int, nominal: int, drop: bool) -> tuple[int, int, int, int]:
    """(hours, minutes, seconds, frame) of the time code `count` frames after 00:00:00:00,
    wrapping at 24 hours; drop-frame (29.97) skips frame labels 0 and 1 of each minute but every
    tenth."""
    if drop:  # 17982 frames every ten minutes: 1800 in the first minute, 1798 in the nine others
        count %= 24 * 6 * 17982
        tens, within = divmod(count, 17982)
        count += 18 * tens + (2 * ((within - 2) // 1798) if within > 1 else 0)
    count %= 24 * 3600 * nominal
    return count // (3600 * nominal), count // (60 * nominal) % 60, count // nominal % 60, count % nominal


def _decoded(packed: int) -> tuple[int, int, int, int]:
    """(hours, minutes, seconds, frame) of a packed time code, each from its two binary-coded
    decimal digits."""
    return tuple((packed >> shift & 0xF) + 10 * (packed >> shift + 4 & tens)
                 for shift, tens in _FIELDS.values())


def to_openexr(packed: int, user_data: int) -> OpenEXR.TimeCode:
    """The OpenEXR `TimeCode` of an OpenImageIO `smpte:TimeCode` (`ExrPart.timecode`)."""
    code = OpenEXR.TimeCode()
    code.hours, code.minutes, code.seconds, code.frame = _decoded(packed)
    code.dropFrame, code.colorFrame = bool(packed & _DROP_FRAME), bool(packed & _COLOR_FRAME)
    code.fieldPhase, code.bgf0 = bool(packed & _FIELD_PHASE), bool(packed & _BGF0)
    code.bgf1, code.bgf2 = bool(packed & _BGF1), bool(packed & _BGF2)
    code.userData = user_data
    return code
