"""Procedural triangle meshes (torus, capped cylinder) written as OBJ files for Mitsuba to load.

Mitsuba's own sphere and cylinder refuse non-uniform scales; meshes take any transform, which is what
thin rods and squashed shapes need.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vfxdenoise.core.io.atomic import write_atomically


def torus(major: float = 1.0, minor: float = 0.35, rings: int = 48, sides: int = 20):
    """Vertices, normals, uvs and (1-based) triangle faces of a torus around +Y."""
    u = np.linspace(0, 2 * np.pi, rings + 1)
    v = np.linspace(0, 2 * np.pi, sides + 1)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    center = np.stack([np.cos(uu), np.zeros_like(uu), np.sin(uu)], -1) * major
    normal = np.stack([np.cos(uu) * np.cos(vv), np.sin(vv), np.sin(uu) * np.cos(vv)], -1)
    vertices = center + minor * normal
    uvs = np.stack([uu / (2 * np.pi) * 4, vv / (2 * np.pi)], -1)
    return _grid(vertices, normal, uvs)


def rod(segments: int = 24):
    """A capped cylinder of radius 1 from y=0 to y=1 (scale it into a thin rod)."""
    angle = np.linspace(0, 2 * np.pi, segments + 1)
    ring = np.stack([np.cos(angle), np.zeros_like(angle), np.sin(angle)], -1)
    side_v = np.stack([ring, ring + [0, 1, 0]], 1)  # (segments+1, 2, 3)
    side_n = np.stack([ring, ring], 1)
    side_uv = np.stack(np.meshgrid(angle / (2 * np.pi), [0.0, 1.0], indexing="ij"), -1)
    vertices, normals, uvs, faces = _grid(side_v, side_n, side_uv)
    for y, sign in ((0.0, -1.0), (1.0, 1.0)):
        base = len(vertices)
        cap = np.concatenate([[[0, y, 0]], ring[:-1] + [0, y, 0]])
        vertices = np.concatenate([vertices, cap])
        normals = np.concatenate([normals, np.tile([0, sign, 0], (len(cap), 1))])
        uvs = np.concatenate([uvs, cap[:, [0, 2]] * 0.5 + 0.5])
        k = np.arange(segments)
        tri = np.stack([np.zeros(segments, int), 1 + k, 1 + (k + 1) % segments], -1) + base + 1
        faces = np.concatenate([faces, tri if sign < 0 else tri[:, ::-1]])
    return vertices, normals, uvs, faces


def _grid(vertices, normals, uvs):
    """Triangulate a (n, m) grid of vertices; faces wound so normals point outward."""
    n, m = vertices.shape[:2]
    idx = np.arange(n * m).reshape(n, m) + 1
    a, b, c, d = idx[:-1, :-1], idx[1:, :-1], idx[1:, 1:], idx[:-1, 1:]
    faces = np.concatenate([np.stack([a, d, c], -1).reshape(-1, 3), np.stack([a, c, b], -1).reshape(-1, 3)])
    return vertices.reshape(-1, 3), normals.reshape(-1, 3), uvs.reshape(-1, 2), faces


def obj_text(vertices, normals, uvs, faces) -> str:
    lines = [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"vt {u:.6f} {v:.6f}" for u, v in uvs]
    lines += [f"vn {x:.6f} {y:.6f} {z:.6f}" for x, y, z in normals]
    lines += [f"f {a}/{a}/{a} {b}/{b}/{b} {c}/{c}/{c}" for a, b, c in faces]
    return "\n".join(lines) + "\n"


# Every procedural mesh: kind (its OBJ file name) -> the function building it.
MESH_KINDS = {"torus": torus, "rod": rod}


def write_meshes(folder: Path) -> dict[str, Path]:
    """Write every procedural mesh as OBJ into `folder` (atomically) and return kind -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind, build in MESH_KINDS.items():
        path = folder / f"{kind}.obj"
        if not path.exists():
            text = obj_text(*build())
            write_atomically(path, lambda temp, text=text: temp.write_text(text))
        paths[kind] = path
    return paths
