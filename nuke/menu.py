"""Nuke GUI start-up: the VfxDenoise node in the Nodes toolbar (Filter > VfxDenoise)."""

import nuke

nuke.menu("Nodes").addCommand("Filter/VfxDenoise", "nuke.createNode('VfxDenoise')")
