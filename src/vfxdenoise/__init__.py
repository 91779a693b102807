"""vfxdenoise: temporally stable neural denoising of rendered EXR sequences."""

__version__ = "0.1.0"
