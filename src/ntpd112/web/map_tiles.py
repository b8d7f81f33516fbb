"""The configured map tile sources and the path-safe lookup of a local tile (served by web/map_routes.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class MapTiles:
    """The configured tile sources (settings map_tile_url, map_tile_dir); both None: boundaries only."""

    url_template: str | None = None
    directory: Path | None = None  # resolved


def tile_file(directory: Path, z: int, x: int, y: int) -> Path | None:
    """Tile z/x/y.png inside `directory`, or None when there is none or it resolves outside (a symlink out)."""
    candidate = (directory / str(z) / str(x) / f"{y}.png").resolve()
    if not candidate.is_relative_to(directory) or not candidate.is_file():
        return None
    return candidate
