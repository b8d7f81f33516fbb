// Classification as data: which categories the keys reach, and what a PUT /api/calls/{id}/incident carries.

import type { components } from "../api/schema";
import type { Card } from "./cards";
import type { Language } from "./i18n";

export type Category = components["schemas"]["Category"];
type IncidentFields = components["schemas"]["IncidentChange"];
/** A PUT body. The generated type makes every field with a default required, but the service keeps the stored
 * value of a field left out (and clears it for null): partial on purpose. */
export type IncidentChange = Pick<IncidentFields, "category"> & Partial<Omit<IncidentFields, "category">>;
/** The same body as the generated client types it (see IncidentChange). */
export const asRequestBody = (change: IncidentChange): IncidentFields => change as IncidentFields;
export type Severity = components["schemas"]["Severity"];
export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low"];

/** What the operator types on the card before and after classifying; sent with the classification. */
export interface Draft {
  severity: Severity | null;
  address: string;
  description: string;
}

export const EMPTY_DRAFT: Draft = { severity: null, address: "", description: "" };

/** Incident categories in table order (the digits follow it); outcomes (prank, silent, ...) apart. */
export function incidentCategories(categories: readonly Category[]): Category[] {
  return categories.filter((category) => category.kind === "incident");
}

export function outcomeCategories(categories: readonly Category[]): Category[] {
  return categories.filter((category) => category.kind === "outcome");
}

export function categoryLabel(category: Category, language: Language): string {
  return language === "id" ? category.label_id : category.label_en;
}

/** The body that classifies `card` as `category`. A first classification also carries the draft and the call's
 * best location and kecamatan, so the incident starts where the caller is; a change of category sends only it
 * (the service keeps fields left out). */
export function classificationBody(card: Card, category: string, draft: Draft): IncidentChange {
  if (card.incident) {
    return { category };
  }
  const body: IncidentChange = { category, ...draftFields(draft) };
  const best = card.detail?.best_location;
  if (best && best.lat !== null && best.lon !== null) {
    body.lat = best.lat;
    body.lon = best.lon;
  }
  const area = card.detail?.area?.kecamatan;
  if (area) {
    body.area = area.slice(0, 80);
  }
  return body;
}

/** The draft as incident fields: empty text clears nothing on a first save and clears the field afterwards. */
export function draftFields(draft: Draft): Omit<IncidentChange, "category"> {
  const fields: Omit<IncidentChange, "category"> = {};
  if (draft.severity !== null) {
    fields.severity = draft.severity;
  }
  fields.address = draft.address.trim() === "" ? null : draft.address;
  fields.description = draft.description.trim() === "" ? null : draft.description;
  return fields;
}
