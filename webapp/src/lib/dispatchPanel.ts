// The dispatch panel as data: what to ask `explain` for a card, the route it answers, each attempt's state and
// which dispatch commands apply now. Nothing here does I/O; lib/dispatch.svelte.ts reads and writes.

import type { components } from "../api/schema";
import type { Card, CallDetail } from "./cards";
import type { Category } from "./classify";

export type Explanation = components["schemas"]["Explanation"];
export type DispatchView = components["schemas"]["DispatchView"];
export type DispatchMode = components["schemas"]["DispatchMode"];
export type DispatchCommand = "complete" | "cancel" | "leave";
export const DISPATCH_MODES: readonly DispatchMode[] = ["blind", "attended", "conference"];

export interface ExplainQuery {
  category: string;
  area: string | null;
}

/** What to explain for the card: its incident category and area, or null while the call is unclassified or
 * classified with an outcome (prank, silent, ...: nothing to dispatch). */
export function explainQuery(card: Card, categories: readonly Category[]): ExplainQuery | null {
  const incident = card.incident;
  if (!incident) {
    return null;
  }
  const category = categories.find((c) => c.id === incident.category);
  if (category?.kind !== "incident") {
    return null;
  }
  // The incident's area is what dispatch routes with; the call's kecamatan until the incident has one.
  const area = incident.area ?? card.detail?.area?.kecamatan ?? null;
  return { category: category.id, area: area === null ? null : area.slice(0, 80) };
}

export const queryKey = (query: ExplainQuery): string => `${query.category}\u0000${query.area ?? ""}`;

export interface RouteTarget {
  target: string;
  agency: string;
  timeout: number;
  // The rule the step comes from (null: the default chain); a `then` continuation brings another rule's steps.
  ruleId: string | null;
}

export interface RouteSummary {
  kind: Explanation["decision"]["kind"];
  ruleId: string | null;
  tableVersion: number;
  chain: RouteTarget[];
  // After hours: what the caller hears and the agency the ticket goes to.
  message: string | null;
  ticketAgency: string | null;
}

export function routeSummary(explanation: Explanation): RouteSummary {
  const decision = explanation.decision;
  return {
    kind: decision.kind,
    ruleId: decision.rule_id,
    tableVersion: decision.table_version,
    chain: decision.chain.map((step) => ({
      target: step.target.id,
      agency: step.target.agency,
      timeout: step.timeout,
      ruleId: step.rule_id,
    })),
    message: decision.message,
    ticketAgency: decision.ticket_agency,
  };
}

/** The agencies the incident is handed to as tickets: the first agency of each rule the route walks (a rule's later
 * steps are fallbacks for the same case; a `then` continuation adds an agency, e.g. the police then the ambulance),
 * or the after-hours rule's ticket agency. None when nothing is dispatched. */
/** The agencies that still need a ticket: one that has a ticket of this call (open or closed) keeps it. */
export function agenciesWithoutTicket(agencies: readonly string[], tickets: readonly { agency: string }[]): string[] {
  const ticketed = new Set(tickets.map((ticket) => ticket.agency));
  return agencies.filter((agency) => !ticketed.has(agency));
}

export function handoverAgencies(route: RouteSummary): string[] {
  if (route.kind === "after_hours") {
    return route.ticketAgency === null ? [] : [route.ticketAgency];
  }
  const firstOfRule = new Map<string | null, string>();
  for (const step of route.chain) {
    if (!firstOfRule.has(step.ruleId)) {
      firstOfRule.set(step.ruleId, step.agency);
    }
  }
  return [...new Set(firstOfRule.values())];
}

export type AttemptState = "ringing" | "answered" | "busy" | "no_answer" | "failed" | "cancelled";
const ENDED_STATES: readonly string[] = ["answered", "busy", "no_answer", "failed", "cancelled"];

export interface AttemptRow {
  number: number;
  target: string;
  agency: string;
  state: AttemptState;
}

/** Every attempt of the call's dispatches, from its timeline (which outlives the dispatch and the call):
 * `dispatch_attempt` rings, `dispatch_attempt_ended` says how it ended. Numbers restart with each dispatch, so an
 * end closes the latest ringing attempt of its number. */
export function attemptsOf(timeline: CallDetail["timeline"]): AttemptRow[] {
  const rows: AttemptRow[] = [];
  for (const event of timeline) {
    const number = event.data.attempt;
    if (typeof number !== "number") {
      continue;
    }
    if (event.type === "dispatch_attempt") {
      rows.push({ number, target: String(event.data.target ?? ""), agency: String(event.data.agency ?? ""), state: "ringing" });
    } else if (event.type === "dispatch_attempt_ended") {
      const outcome = String(event.data.outcome);
      const row = [...rows].reverse().find((r) => r.number === number && r.state === "ringing");
      if (row !== undefined && ENDED_STATES.includes(outcome)) {
        row.state = outcome as AttemptState;
      }
    }
  }
  return rows;
}

/** The dispatch state as the panel shows it: the service's session state, or "none" when no dispatch holds the
 * call (never started, or over). */
export function dispatchState(view: DispatchView | null): string {
  return view === null || view.mode === null ? "none" : view.state;
}

export interface PanelActions {
  start: boolean;
  complete: boolean;
  cancel: boolean;
  leave: boolean;
}

/** What the operator may do now; the service refuses the rest (dispatch/transitions.py), the panel does not
 * offer it. A new dispatch once nothing runs: no dispatch, or one that came back to the operator (idle). */
export function panelActions(view: DispatchView | null, callLive: boolean, dispatchable: boolean): PanelActions {
  const state = view?.state ?? null;
  const mode = view?.mode ?? null;
  return {
    start: callLive && dispatchable && (state === null || state === "idle"),
    complete: callLive && state === "consulting",
    cancel: callLive && mode === "attended" && (state === "ringing" || state === "consulting"),
    leave: callLive && mode === "conference" && state === "connected",
  };
}

/** Whether the call's timeline says dispatch took it over, so GET /api/calls/{id}/dispatch can answer. */
export function dispatchTouched(detail: CallDetail): boolean {
  return detail.timeline.some((event) => event.type === "dispatch_requested" || event.type === "dispatch_holding");
}

/** The panel's actions for a card: its call live, classified with an incident category. */
export function cardActions(card: Card, categories: readonly Category[], view: DispatchView | null): PanelActions {
  const live = card.detail !== null && card.detail.ended_at === null;
  return panelActions(view, live, explainQuery(card, categories) !== null);
}
