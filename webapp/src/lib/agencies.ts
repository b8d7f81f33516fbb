// The agencies (OPD) screen's form: the service's AgencyForm as text fields an admin types into, and back. The
// service checks everything again (and names the field of any refusal); here only what a text field cannot say
// (a duty line without a phone, a limit that is no number) is caught before sending.

import type { components } from "../api/schema";

export type AgencyForm = components["schemas"]["AgencyForm"];
export type AgencyKind = components["schemas"]["AgencyKind"];
export type Contact = components["schemas"]["Contact"];
export type TimeLimits = components["schemas"]["TimeLimits"];

export const AGENCY_KINDS: readonly AgencyKind[] = [
  "police",
  "fire",
  "search_rescue",
  "disaster",
  "health",
  "hospital",
  "transport",
  "environment",
  "women_children",
  "public_order",
  "red_cross",
  "electricity",
  "water",
  "call_centre",
  "other",
];

export interface LimitDraft {
  category: string;
  acknowledge: string; // minutes, as typed
  resolve: string; // empty: the end of the working day (non-emergencies only)
  escalate: string; // empty: 30 (the service's default)
}

export interface AgencyDraft {
  id: string;
  name: string;
  kind: AgencyKind;
  desks: string; // endpoint names, separated by commas, spaces or lines
  numbers: string;
  trunk: string;
  webhookUrl: string;
  includeCallerNumber: boolean;
  headName: string;
  headPhone: string;
  duty: string; // one "name, phone" a line
  dutyNumber: string; // the phone rung for the agency's tickets (pressing 1 acknowledges); empty: none
  categories: string[];
  limits: LimitDraft[];
}

/** Where a draft cannot become a form: the field and the message key. */
export interface DraftProblem {
  field: keyof AgencyDraft;
  key: "agencies.problem.contactLine" | "agencies.problem.minutes" | "agencies.problem.headHalf";
  line?: number;
}

export function emptyDraft(): AgencyDraft {
  return {
    id: "",
    name: "",
    kind: "other",
    desks: "",
    numbers: "",
    trunk: "agency-trunk",
    webhookUrl: "",
    includeCallerNumber: false,
    headName: "",
    headPhone: "",
    duty: "",
    dutyNumber: "",
    categories: [],
    limits: [],
  };
}

const minutes = (value: number | null | undefined) => (value === null || value === undefined ? "" : String(value));

export function draftOf(form: AgencyForm): AgencyDraft {
  return {
    id: form.id,
    name: form.name,
    kind: form.kind ?? "other",
    desks: (form.desks ?? []).join(", "),
    numbers: (form.numbers ?? []).join(", "),
    trunk: form.trunk ?? "agency-trunk",
    webhookUrl: form.webhook?.url ?? "",
    includeCallerNumber: form.webhook?.include_caller_number ?? false,
    headName: form.head?.name ?? "",
    headPhone: form.head?.phone ?? "",
    duty: (form.duty ?? []).map((c) => `${c.name}, ${c.phone}`).join("\n"),
    dutyNumber: form.duty_number ?? "",
    categories: [...(form.categories ?? [])],
    limits: Object.entries(form.limits ?? {}).map(([category, limit]) => ({
      category,
      acknowledge: minutes(limit.acknowledge_minutes),
      resolve: minutes(limit.resolve_minutes),
      escalate: minutes(limit.escalate_minutes),
    })),
  };
}

/** The items of a list typed with commas, spaces, semicolons or line breaks. */
export function listOf(text: string): string[] {
  return text.split(/[\s,;]+/).filter((item) => item !== "");
}

/** "Name, phone" lines (the phone is after the last comma); blank lines are skipped. */
export function contactsOf(text: string): { contacts: Contact[]; badLine: number | null } {
  const contacts: Contact[] = [];
  const lines = text.split("\n");
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === "") {
      continue;
    }
    const comma = line.lastIndexOf(",");
    if (comma <= 0 || comma === line.length - 1) {
      return { contacts, badLine: index + 1 };
    }
    contacts.push({ name: line.slice(0, comma).trim(), phone: line.slice(comma + 1).trim() });
  }
  return { contacts, badLine: null };
}

function minutesOf(text: string): number | null | undefined {
  const trimmed = text.trim().replace(",", ".");
  if (trimmed === "") {
    return null;
  }
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

export function formOf(draft: AgencyDraft): { form: AgencyForm } | { problem: DraftProblem } {
  const duty = contactsOf(draft.duty);
  if (duty.badLine !== null) {
    return { problem: { field: "duty", key: "agencies.problem.contactLine", line: duty.badLine } };
  }
  const headName = draft.headName.trim();
  const headPhone = draft.headPhone.trim();
  if ((headName === "") !== (headPhone === "")) {
    return { problem: { field: "headName", key: "agencies.problem.headHalf" } };
  }
  const limits: Record<string, TimeLimits> = {};
  for (const row of draft.limits) {
    const acknowledge = minutesOf(row.acknowledge);
    const resolve = minutesOf(row.resolve);
    const escalate = minutesOf(row.escalate);
    if (acknowledge === null || acknowledge === undefined || resolve === undefined || escalate === undefined) {
      return { problem: { field: "limits", key: "agencies.problem.minutes" } };
    }
    limits[row.category] = { acknowledge_minutes: acknowledge, resolve_minutes: resolve, escalate_minutes: escalate ?? 30 };
  }
  const url = draft.webhookUrl.trim();
  const dutyNumber = draft.dutyNumber.trim();
  return {
    form: {
      id: draft.id.trim(),
      name: draft.name.trim(),
      kind: draft.kind,
      desks: listOf(draft.desks),
      numbers: listOf(draft.numbers),
      trunk: draft.trunk.trim() || "agency-trunk",
      webhook: url === "" ? null : { url, include_caller_number: draft.includeCallerNumber },
      head: headName === "" ? null : { name: headName, phone: headPhone },
      duty: duty.contacts,
      duty_number: dutyNumber === "" ? null : dutyNumber,
      limits,
      categories: draft.categories,
    },
  };
}

/** The draft field a refusal of the service is about ("agencies[pupr].desks.0: ..." -> "desks"), if any. */
export function fieldOfIssue(issue: { section?: string; field?: string }): keyof AgencyDraft | null {
  const head = (issue.field ?? "").split(/[.[]/)[0] ?? "";
  if (issue.section === "rules") {
    return head === "categories" ? "categories" : null;
  }
  const fields: Record<string, keyof AgencyDraft> = {
    id: "id",
    name: "name",
    kind: "kind",
    desks: "desks",
    numbers: "numbers",
    trunk: "trunk",
    webhook: "webhookUrl",
    head: "headName",
    duty: "duty",
    duty_number: "dutyNumber",
    limits: "limits",
    categories: "categories",
  };
  return fields[head] ?? null;
}
