"""The denoiser's messages said in a host's terms, from the table the host gives."""

from __future__ import annotations

import pytest

from vfxdenoise.plugin.flag_terms import in_host_terms
from vfxdenoise.plugin.render_hook import setting_flags

HOUDINI_LIKE = {"--alpha": "alpha", "--aov": "aovs", "-o": "output_pattern"}


@pytest.mark.parametrize(("message", "said"), [
    ("--alpha must be one of rendered, denoise (got 'Denoise')",
     "alpha must be one of rendered, denoise (got 'Denoise')"),
    ("leave --aov out, or pass a wildcard (--aov 'RGBA_*')",
     "leave aovs out, or pass a wildcard (aovs 'RGBA_*')"),
    ("remove it or use -o", "remove it or use output_pattern"),
    ("give --max-mem; --aov-radiance spec; /a--alpha/x-o.exr", "give --max-mem; --aov-radiance spec; "
                                                                "/a--alpha/x-o.exr"),  # not in the table
])
def test_each_flag_the_table_holds_is_said_by_its_name_and_the_rest_left_alone(message, said):
    assert in_host_terms(message, HOUDINI_LIKE) == said


def test_a_hooks_settings_name_every_seq_flag_they_set_but_the_context_frames():
    """The keywords a Houdini artist types for each flag; --context-frames is the hook's own."""
    flags = setting_flags()
    assert flags["--temporal-radius"] == "temporal_radius" and flags["--aov-radiance"] == "radiance_aovs"
    assert flags["--albedo"] == "layers['albedo']" and flags["-o"] == "output_pattern"
    assert flags["--keep-noisy"] == "keep_noisy" and "--context-frames" not in flags
