"""4x4 homogeneous transforms in numpy, with Mitsuba's conventions.

The scene description keeps every transform as a numpy matrix so that the renderer (which turns them
into `mi.ScalarTransform4f`) and the motion-vector computation use the very same numbers.
"""

from __future__ import annotations

import numpy as np

Vector = tuple[float, float, float]


def translate(offset) -> np.ndarray:
    m = np.eye(4)
    m[:3, 3] = offset
    return m


def scale(factors) -> np.ndarray:
    factors = np.broadcast_to(np.asarray(factors, float), (3,))
    return np.diag([*factors, 1.0])


def rotate(axis, degrees: float) -> np.ndarray:
    """Rotation about `axis` through the origin (right-handed, Rodrigues)."""
    axis = np.asarray(axis, float)
    axis = axis / np.linalg.norm(axis)
    angle = np.radians(degrees)
    x, y, z = axis
    k = np.array([[0, -z, y], [z, 0, -x], [-y, x, 0]])
    m = np.eye(4)
    m[:3, :3] = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)
    return m


def look_at(origin, target, up) -> np.ndarray:
    """Camera-to-world matrix as Mitsuba builds it: columns (left, up, forward, origin).

    The camera looks along its local +Z; local +X points to the image's left, +Y to its top.
    """
    origin, target, up = (np.asarray(v, float) for v in (origin, target, up))
    forward = target - origin
    forward /= np.linalg.norm(forward)
    left = np.cross(up, forward)
    left /= np.linalg.norm(left)
    new_up = np.cross(forward, left)
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = left, new_up, forward, origin
    return m


def apply_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Transform (..., 3) points by a 4x4 matrix."""
    return points @ matrix[:3, :3].T + matrix[:3, 3]
