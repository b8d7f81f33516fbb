// The call search's form as GET /api/calls parameters (web/call_routes.py CallListQuery). Pure: the view and its
// requests live in components/CallSearch.svelte.

import type { components, operations } from "../api/schema";

export type Outcome = components["schemas"]["CallOutcome"];
// In the order a supervisor asks about them; the type keeps the list to the service's outcomes.
export const OUTCOMES: readonly Outcome[] = ["answered", "abandoned", "phantom_abandoned", "unanswered", "waiting"];

export interface SearchForm {
  number: string;
  from: string; // yyyy-mm-dd from <input type="date">, or ""
  to: string;
  category: string;
  outcome: Outcome | "";
  operator: string;
  kecamatan: string;
}

export const EMPTY_SEARCH: SearchForm = {
  number: "",
  from: "",
  to: "",
  category: "",
  outcome: "",
  operator: "",
  kecamatan: "",
};

export const SEARCH_LIMIT = 100;

export type SearchQuery = NonNullable<operations["list_calls"]["parameters"]["query"]>;

/** The filled fields, trimmed; an empty field filters nothing (the service refuses empty values). */
export function searchQuery(form: SearchForm): SearchQuery {
  const filled = (value: string) => (value.trim() === "" ? undefined : value.trim());
  const query: SearchQuery = {
    limit: SEARCH_LIMIT,
    number: filled(form.number),
    from: filled(form.from),
    to: filled(form.to),
    category: filled(form.category),
    outcome: form.outcome === "" ? undefined : form.outcome,
    operator: filled(form.operator),
    kecamatan: filled(form.kecamatan),
  };
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined)) as SearchQuery;
}

/** The slot a digit picks in a list (1..9), or null past the list. */
export function pickedSlot(slot: number, length: number): number | null {
  return slot >= 0 && slot < Math.min(length, 9) ? slot : null;
}
