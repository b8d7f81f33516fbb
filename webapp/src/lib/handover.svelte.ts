// The hand-over of a call's incident to agencies as tickets (POST /api/calls/{id}/tickets), and the call's tickets
// as its card shows them (GET /api/tickets?call_id=). Which agencies: dispatchPanel.handoverAgencies.

import { api, failureOf, NETWORK_FAILURE, type ApiFailure } from "../api/client";
import { agenciesWithoutTicket } from "./dispatchPanel";
import type { TicketSummary } from "./tickets";

export interface Handover {
  tickets: TicketSummary[];
  // A request on its way: the key pressed again meanwhile makes nothing twice.
  busy: boolean;
  failure: ApiFailure | null;
}

export const handovers = $state<Record<string, Handover>>({});

function handoverOf(callId: string): Handover {
  handovers[callId] ??= { tickets: [], busy: false, failure: null };
  return handovers[callId];
}

// An answer that arrives after its card closed writes into the entry it started with, which `forgetHandover` has
// already dropped: it must not bring the entry back (one leaked entry per card over a shift).

/** Read the call's tickets (the card opens, or a ticket of the call changed). */
export async function readTickets(callId: string): Promise<void> {
  const handover = handoverOf(callId);
  try {
    const { data, error, response } = await api.GET("/api/tickets", {
      params: { query: { call_id: callId, status: "all" } }, // the card shows its closed tickets too
    });
    if (data === undefined) {
      handover.failure = failureOf(error, response);
      return;
    }
    handover.tickets = data;
  } catch {
    handover.failure = NETWORK_FAILURE;
  }
}

/** One ticket per agency (an agency that has one for this incident keeps it: pressing twice makes nothing more). */
export async function handOver(callId: string, routeAgencies: readonly string[]): Promise<void> {
  const handover = handoverOf(callId);
  const agencies = agenciesWithoutTicket(routeAgencies, handover.tickets);
  if (handover.busy || agencies.length === 0) {
    return;
  }
  handover.busy = true;
  handover.failure = null;
  try {
    const { data, error, response } = await api.POST("/api/calls/{call_id}/tickets", {
      params: { path: { call_id: callId } },
      body: { agencies: [...agencies], note: null },
    });
    if (data === undefined) {
      handover.failure = failureOf(error, response);
      return;
    }
    const made = new Map(data.map((ticket) => [ticket.id, ticket]));
    const kept = handover.tickets.filter((ticket) => !made.has(ticket.id));
    handover.tickets = [...kept, ...data];
  } catch {
    handover.failure = NETWORK_FAILURE;
  } finally {
    handover.busy = false;
  }
}

/** A ticket changed (the live stream): the card showing it reads its call's tickets again. */
export function ticketChanged(ticketId: string): void {
  for (const [callId, handover] of Object.entries(handovers)) {
    if (handover.tickets.some((ticket) => ticket.id === ticketId)) {
      void readTickets(callId);
    }
  }
}

/** The card closed: nothing of its tickets stays in memory. */
export function forgetHandover(callId: string): void {
  delete handovers[callId];
}
