"""SMPTE time codes moved by a number of frames, as a held frame's is (held frames' headers:
tests/core/test_denoised_frame.py)."""

from __future__ import annotations

from fractions import Fraction

from vfxdenoise.core.io.timecode import advanced


def _packed(hours: int, minutes: int, seconds: int, frame: int, drop: bool = False) -> int:
    digits = [frame % 10, frame // 10, seconds % 10, seconds // 10, minutes % 10, minutes // 10,
              hours % 10, hours // 10]
    return sum(digit << 4 * index for index, digit in enumerate(digits)) | (drop << 6)


def test_time_codes_wrap_at_a_day_and_refuse_labels_that_do_not_exist():
    day_end = (_packed(23, 59, 59, 23) | 1 << 7, 7)
    assert advanced(day_end, 1, Fraction(24)) == (_packed(0, 0, 0, 0) | 1 << 7, 7)
    assert advanced((_packed(0, 0, 0, 0), 0), -1, Fraction(24)) == (_packed(23, 59, 59, 23), 0)
    drop_end = (_packed(23, 59, 59, 29, drop=True), 0)
    assert advanced(drop_end, 1, Fraction(30000, 1001)) == (_packed(0, 0, 0, 0, drop=True), 0)
    assert advanced((_packed(0, 1, 0, 1, drop=True), 0), 1, Fraction(30000, 1001)) is None
    assert advanced((_packed(1, 0, 0, 24), 0), 1, Fraction(24)) is None  # no frame 24 at 24
    assert advanced((_packed(1, 0, 0, 0), 0), 1, Fraction(12, 5)) is None  # 2.4 fps: no code


def test_drop_frame_counting_goes_through_every_label_of_a_day_in_order():
    """From 00:00:00;00 one frame at a time (sampled): each label follows the last, none skipped
    but ;00 and ;01 of the minutes not a multiple of ten."""
    rate = Fraction(30000, 1001)
    code = (_packed(0, 0, 0, 0, drop=True), 0)
    for start in range(0, 24 * 6 * 17982, 4999):
        here = advanced(code, start, rate)
        after = advanced(here, 1, rate)
        assert advanced(after, -1, rate) == here
        hours, minutes, seconds, frame = _fields(after[0])
        was = _fields(here[0])
        expected = _next_label(*was)
        assert (hours, minutes, seconds, frame) == expected, (was, expected)


def _fields(packed: int) -> tuple[int, int, int, int]:
    digit = [packed >> 4 * index & 0xF for index in range(8)]
    return (digit[6] + 10 * (digit[7] & 3), digit[4] + 10 * (digit[5] & 7), digit[2] + 10 * (digit[3] & 7),
            digit[0] + 10 * (digit[1] & 3))


def _next_label(hours: int, minutes: int, seconds: int, frame: int) -> tuple[int, int, int, int]:
    frame += 1
    if frame == 30:
        frame, seconds = 0, seconds + 1
        if seconds == 60:
            seconds, minutes = 0, minutes + 1
            frame = 2 if minutes % 10 else 0
            if minutes == 60:
                minutes, hours = 0, (hours + 1) % 24
    return hours, minutes, seconds, frame
