"""The classic still-image track: synthetic noise models, one image through a classic model or BM3D,
scoring under noise conditions, and the image datasets on the user's disk."""
