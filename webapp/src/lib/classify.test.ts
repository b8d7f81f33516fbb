import { describe, expect, it } from "vitest";
import type { Card, CallDetail, IncidentView } from "./cards";
import { classificationBody, draftFields, EMPTY_DRAFT, incidentCategories, outcomeCategories, type Category } from "./classify";

const category = (id: string, kind: Category["kind"]): Category => ({
  id,
  label_id: id,
  label_en: id,
  kind,
  emergency: false,
  default_severity: null,
  limits: null,
});
const categories = [category("medical", "incident"), category("fire", "incident"), category("prank", "outcome"), category("road", "incident")];

const card = (detail: Partial<CallDetail> | null, incident: IncidentView | null = null): Card => ({
  callId: "c1",
  reason: "answered",
  detail: detail as CallDetail | null,
  incident,
  addedAt: 1,
});

describe("classification", () => {
  it("splits incidents (in table order) from outcomes", () => {
    expect(incidentCategories(categories).map((c) => c.id)).toEqual(["medical", "fire", "road"]);
    expect(outcomeCategories(categories).map((c) => c.id)).toEqual(["prank"]);
  });

  it("starts the incident with the draft, the best location and the kecamatan", () => {
    const detail = {
      best_location: { fix_id: "f", source: "pidf", lat: -6.2, lon: 106.7, radius_m: 30, measured_at: null },
      area: { id: 1, code: "36.03.01", kabupaten: "Tangerang", kecamatan: "Cisoka", kelurahan: null },
    } as Partial<CallDetail>;
    const draft = { severity: null, address: "Jl. Raya 1", description: "" };
    expect(classificationBody(card(detail), "fire", draft)).toEqual({
      category: "fire",
      address: "Jl. Raya 1",
      description: null,
      lat: -6.2,
      lon: 106.7,
      area: "Cisoka",
    });
  });

  it("only changes the category of an incident that exists", () => {
    expect(classificationBody(card({}, { category: "fire" } as IncidentView), "prank", EMPTY_DRAFT)).toEqual({
      category: "prank",
    });
  });

  it("sends a chosen severity, and clears emptied text", () => {
    expect(draftFields({ severity: "high", address: " ", description: "dekat masjid" })).toEqual({
      severity: "high",
      address: null,
      description: "dekat masjid",
    });
  });
});
