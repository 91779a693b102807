"""SMPTE time codes as EXR headers hold them (`timeCode`; OpenImageIO's `smpte:TimeCode`: the
time and flags packed as SMPTE 12M's 60-field code is, and user data): moved by a number of
frames, for a frame --missing hold writes under another number (`denoised_frame`), and turned
into OpenEXR's `TimeCode` for its writer."""

from __future__ import annotations

from fractions import Fraction

import OpenEXR

# SMPTE time code (`ExrPart.timecode`, packed as SMPTE 12M's 60-field code): the flag bits, kept
# as they are when a time code is advanced (drop frame, colour frame, field phase, binary groups).
_TIMECODE_FLAGS = 1 << 6 | 1 << 7 | 1 << 15 | 1 << 23 | 1 << 30 | 1 << 31
_DROP_FRAME = 1 << 6
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
    fields = _fields(count + frames, nominal, drop)
    packed = packed & _TIMECODE_FLAGS
    for shift, value in zip((24, 16, 8, 0), fields):
        packed |= (value // 10 << 4 | value % 10) << shift  # two digits in binary-coded decimal
    return packed, user_data


def _count(packed: int, nominal: int, drop: bool) -> int | None:
    """Frames since 00:00:00:00 of a packed time code; None if it is no valid code at the rate."""
    digits = [packed >> shift & 0xF for shift in range(0, 32, 4)]  # units and tens, frame first
    frame, seconds = digits[0] + 10 * (digits[1] & 0x3), digits[2] + 10 * (digits[3] & 0x7)
    minutes, hours = digits[4] + 10 * (digits[5] & 0x7), digits[6] + 10 * (digits[7] & 0x3)
    if (max(digits[0::2]) > 9 or hours > 23 or minutes > 59 or seconds > 59 or frame >= nominal
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


def to_openexr(packed: int, user_data: int) -> OpenEXR.TimeCode:
    """The OpenEXR `TimeCode` of an OpenImageIO `smpte:TimeCode` (`ExrPart.timecode`)."""
    code = OpenEXR.TimeCode()
    code.hours = (packed >> 24 & 0xF) + 10 * (packed >> 28 & 0x3)
    code.minutes = (packed >> 16 & 0xF) + 10 * (packed >> 20 & 0x7)
    code.seconds = (packed >> 8 & 0xF) + 10 * (packed >> 12 & 0x7)
    code.frame = (packed & 0xF) + 10 * (packed >> 4 & 0x3)
    code.dropFrame, code.colorFrame = bool(packed & 1 << 6), bool(packed & 1 << 7)
    code.fieldPhase, code.bgf0 = bool(packed & 1 << 15), bool(packed & 1 << 23)
    code.bgf1, code.bgf2 = bool(packed & 1 << 30), bool(packed & 1 << 31)
    code.userData = user_data
    return code
