// The maps' base layers: the imported kecamatan and kelurahan/desa boundaries (GET /api/areas), offline, and under
// them the tile layers an admin configured (GET /api/map; usually none). Each fetched once per page (they do not
// change during a shift) and shared by every map on it.

import L from "leaflet";
import { api } from "../api/client";
import type { components } from "../api/schema";

type AreaCollection = components["schemas"]["AreaCollection"];
type TileLayer = components["schemas"]["TileLayer"];

let areas: Promise<AreaCollection | null> | undefined;

function loadAreas(): Promise<AreaCollection | null> {
  areas ??= api.GET("/api/areas", { params: { query: { level: "all" } } }).then(({ data }) => data ?? null);
  return areas;
}

/** Draws the boundaries under everything else on the page's map (`current`: undefined once the map is gone);
 * their layer, or null when none are imported or the map is gone. */
export async function addAreaLayer(current: () => L.Map | undefined): Promise<L.GeoJSON | null> {
  const collection = await loadAreas();
  const map = current();
  if (map === undefined || collection === null || collection.features.length === 0) {
    return null;
  }
  const layer = L.geoJSON(collection as unknown as GeoJSON.FeatureCollection, {
    style: (feature) => ({
      color: feature?.properties?.level === "kelurahan" ? "#4b5d72" : "#8da2b8",
      weight: feature?.properties?.level === "kelurahan" ? 1 : 2,
      dashArray: feature?.properties?.level === "kelurahan" ? "3 4" : undefined,
      fill: false,
    }),
    interactive: false,
  }).addTo(map);
  layer.bringToBack();
  return layer;
}

let tiles: Promise<TileLayer[]> | undefined;

function loadTiles(): Promise<TileLayer[]> {
  tiles ??= api.GET("/api/map").then(({ data }) => data?.tile_layers ?? []);
  return tiles;
}

/** Adds the configured tile layers (local tiles first, online ones over them) to the page's map; Leaflet's tile
 * pane lies under the boundaries and the fixes (its overlay pane). */
export async function addTileLayers(current: () => L.Map | undefined): Promise<void> {
  const layers = await loadTiles();
  const map = current();
  if (map === undefined) {
    return;
  }
  for (const layer of layers) {
    L.tileLayer(layer.url_template, { className: layer.local ? "tiles-local" : "tiles-online" }).addTo(map);
  }
}
