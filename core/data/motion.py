"""Screen-space motion vectors for Mitsuba renders, which have no motion-vector AOV.

For each pixel we know the world position P seen through its centre at frame t and which rigid part
it belongs to. Moving P back into that part's object space (inverse transform at t) and out again
with the transform at t-1 gives where that surface point was one frame earlier; projecting it with
frame t-1's camera gives its previous pixel position. motion = previous position - this pixel's
centre, in pixels, +X right and +Y down (ARCHITECTURE.md). Pixels that see the environment move with
the camera's rotation only (points at infinity).
"""

from __future__ import annotations

import numpy as np

from vfxdenoise.core.data.scenes import SceneDescription


def focal_pixels(fov_degrees: float, width: int) -> float:
    """Focal length in pixels of a camera whose horizontal field of view is `fov_degrees`."""
    return width / (2.0 * np.tan(np.radians(fov_degrees) / 2.0))


def project(points: np.ndarray, camera_to_world: np.ndarray, fov_degrees: float, width: int, height: int,
            directions: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel coordinates (x right, y down; pixel centres at +0.5) of world points or directions.

    Mitsuba's perspective camera looks along local +Z with local +X to the image's left and +Y up.
    Returns (x, y, depth along the view axis); depth <= 0 means behind the camera.
    """
    world_to_camera = np.linalg.inv(camera_to_world)
    local = points @ world_to_camera[:3, :3].T
    if not directions:
        local = local + world_to_camera[:3, 3]
    z = local[..., 2]
    safe = np.where(np.abs(z) > 1e-12, z, 1e-12)
    f = focal_pixels(fov_degrees, width)
    x = width / 2.0 - f * local[..., 0] / safe
    y = height / 2.0 - f * local[..., 1] / safe
    return x, y, z


def pixel_directions(camera_to_world: np.ndarray, fov_degrees: float, width: int, height: int) -> np.ndarray:
    """(H, W, 3) world-space unit directions of the rays through each pixel centre."""
    f = focal_pixels(fov_degrees, width)
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    local = np.stack([(width / 2.0 - xs) / f, (height / 2.0 - ys) / f, np.ones_like(xs)], -1)
    world = local @ camera_to_world[:3, :3].T
    return world / np.linalg.norm(world, axis=-1, keepdims=True)


def motion_vectors(desc: SceneDescription, t: float, positions: np.ndarray, part_ids: np.ndarray,
                   width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(motion.X, motion.Y) float32 images for frame time t.

    positions: (H, W, 3) world position through each pixel centre at t; part_ids: (H, W) int, the
    rigid part of the description seen there (0 = environment).
    """
    now, before = desc.part_transforms(t), desc.part_transforms(t - 1)
    # Per part: object space at t -> world at t-1.
    step = np.einsum("nij,njk->nik", before, np.linalg.inv(now))
    ids = np.clip(part_ids, 0, len(step) - 1)
    previous = np.einsum("hwij,hwj->hwi", step[ids][..., :3, :3], positions) + step[ids][..., :3, 3]
    fov = desc.camera.fov_degrees
    camera_before = desc.camera.to_world(t - 1)
    px, py, depth = project(previous, camera_before, fov, width, height)
    dx, dy, ddepth = project(pixel_directions(desc.camera.to_world(t), fov, width, height), camera_before,
                             fov, width, height, directions=True)
    environment = part_ids <= 0
    px, py = np.where(environment, dx, px), np.where(environment, dy, py)
    visible = np.where(environment, ddepth, depth) > 1e-6
    ys, xs = np.mgrid[0:height, 0:width] + 0.5
    mx = np.where(visible, px - xs, 0.0)
    my = np.where(visible, py - ys, 0.0)
    return mx.astype(np.float32), my.astype(np.float32)
