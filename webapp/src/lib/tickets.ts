// Pure helpers of the agency's ticket screen: ages, the order of the buttons, what each move needs.

import type { components } from "../api/schema";
import type { Language, MessageKey } from "./i18n";
import type { ServerMessage } from "./streamProtocol";

export type TicketStatus = components["schemas"]["TicketStatus"];
export type TicketSummary = components["schemas"]["TicketSummary"];
export type TicketDetail = components["schemas"]["TicketDetail"];

/** What the ticket list may show (GET /api/tickets?status=): the open tickets (the default), all, or one status. */
export type StatusFilter = "open" | "all" | TicketStatus;
export const STATUS_FILTERS: readonly StatusFilter[] = [
  "open",
  "all",
  "new",
  "sent",
  "acknowledged",
  "en_route",
  "on_scene",
  "resolved",
  "closed",
  "rejected",
  "cancelled",
];

/** The filter the address asks for (`?status=`: a reload or a shared link shows the same list); else the open ones. */
export function statusFilterFrom(search: string): StatusFilter {
  const wanted = new URLSearchParams(search).get("status");
  return STATUS_FILTERS.find((filter) => filter === wanted) ?? "open";
}

export function statusFilterKey(filter: StatusFilter): MessageKey {
  return filter === "open" || filter === "all" ? `tickets.filter.${filter}` : `ticket.status.${filter}`;
}

/** A ticket's age as a person says it at a glance: "45 dtk", "12 mnt", "3 j 05 mnt", "2 hr". */
export function ticketAge(createdAt: string, now: Date): { key: MessageKey; values: Record<string, number | string> } {
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(createdAt)) / 1000));
  if (seconds < 60) {
    return { key: "ticket.ageSeconds", values: { n: seconds } };
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return { key: "ticket.ageMinutes", values: { n: minutes } };
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    return { key: "ticket.ageHours", values: { h: hours, m: String(minutes % 60).padStart(2, "0") } };
  }
  return { key: "ticket.ageDays", values: { n: Math.floor(hours / 24) } };
}

/** The move the agency makes next comes first (the big button), refusals last. */
const BUTTON_ORDER: readonly TicketStatus[] = [
  "acknowledged",
  "en_route",
  "on_scene",
  "resolved",
  "closed",
  "sent",
  "rejected",
  "cancelled",
];

export function orderedMoves(allowed: readonly TicketStatus[], from?: TicketStatus): TicketStatus[] {
  const moves = BUTTON_ORDER.filter((status) => allowed.includes(status));
  // A supervisor on a resolved ticket: closing is the next step, reopening the exception.
  return from !== undefined && isReopen(from, "acknowledged")
    ? [...moves.filter((to) => to !== "acknowledged"), ...moves.filter((to) => to === "acknowledged")]
    : moves;
}

function isReopen(from: TicketStatus, to: TicketStatus): boolean {
  return (from === "resolved" || from === "closed") && to === "acknowledged";
}

/** The button's label of a move: back to acknowledged from resolved or closed is a reopening. */
export function moveLabel(from: TicketStatus, to: TicketStatus): MessageKey {
  return isReopen(from, to) ? "ticket.move.reopen" : `ticket.move.${to}`;
}

export type Needs = "nothing" | "reason" | "report";

/** What a move asks of the user before it is sent (the service checks the same: tickets/flow.py). */
export function needsOf(from: TicketStatus, to: TicketStatus): Needs {
  if (to === "closed") {
    return "report";
  }
  if (to === "rejected" || to === "cancelled" || isReopen(from, to)) {
    return "reason";
  }
  return "nothing";
}

/** Coordinates as people read them out on a radio: 6 decimals (about 10 cm), with the hemisphere's sign. */
export function formatCoordinates(lat: number, lon: number): string {
  return `${lat.toFixed(6)}, ${lon.toFixed(6)}`;
}

const SEVERITIES = ["critical", "high", "medium", "low"] as const;

/** The label of a severity the console knows, or null (none set, or one from a newer service). */
export function severityKey(severity: string | null): MessageKey | null {
  const known = SEVERITIES.find((s) => s === severity);
  return known === undefined ? null : `ticket.severity.${known}`;
}

/** The category as the routing table names it in the reader's language; its id when the table no longer has it. */
export function categoryLabel(
  ticket: Pick<TicketSummary, "category" | "category_label_id" | "category_label_en">,
  language: Language,
): string {
  return (language === "id" ? ticket.category_label_id : ticket.category_label_en) ?? ticket.category;
}

/** What the agency screen re-reads for a live stream frame: after `hello` (a (re)connect) everything; on a ticket's
 * change the list (it may enter, leave or move in it) and the open ticket if it is that one. */
export function ticketReads(message: ServerMessage, openTicket: string | null): { list: boolean; ticket: boolean } {
  if (message.type === "hello") {
    return { list: true, ticket: openTicket !== null };
  }
  if (message.type === "tickets_changed") {
    return { list: true, ticket: message.ticket_id === openTicket };
  }
  return { list: false, ticket: false };
}
