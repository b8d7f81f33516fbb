// Dispatch from the card: the route `explain` gives for the call's category and area, the dispatch holding the
// call (re-read with the call on every call_changed frame, see stream.svelte.ts), and the operator's requests.
// What the panel shows is decided by the pure helpers in dispatchPanel.ts.

import { api, failureOf, NETWORK_FAILURE, type ApiFailure } from "../api/client";
import type { Card } from "./cards";
import type { Category } from "./classify";
import {
  explainQuery,
  queryKey,
  routeSummary,
  type DispatchCommand,
  type DispatchMode,
  type DispatchView,
  type ExplainQuery,
  type Explanation,
  type RouteSummary,
} from "./dispatchPanel";

export interface DispatchPanelData {
  explainedFor: string | null;
  explanation: Explanation | null;
  view: DispatchView | null;
  // A request on its way: keys pressed meanwhile do nothing (no double dispatch).
  busy: boolean;
  failure: ApiFailure | null;
}

export const dispatchPanels = $state<Record<string, DispatchPanelData>>({});

function panelOf(callId: string): DispatchPanelData {
  const panel = dispatchPanels[callId];
  if (panel !== undefined) {
    return panel;
  }
  dispatchPanels[callId] = { explainedFor: null, explanation: null, view: null, busy: false, failure: null };
  return dispatchPanels[callId];
}

/** Ask `explain` for the card's category and area, once per change of either. */
export async function explainRoute(callId: string, query: ExplainQuery): Promise<void> {
  const panel = panelOf(callId);
  const key = queryKey(query);
  if (panel.explainedFor === key) {
    return;
  }
  panel.explainedFor = key;
  try {
    const { data, error, response } = await api.GET("/api/routes/explain", {
      params: { query: query.area === null ? { category: query.category } : { category: query.category, area: query.area } },
    });
    // The card closed meanwhile (its panel forgotten: a late answer must not bring it back, one per card of a
    // shift), or the category changed and a newer answer is on its way.
    const current = dispatchPanels[callId];
    if (current === undefined || current.explainedFor !== key) {
      return;
    }
    if (data === undefined) {
      current.failure = failureOf(error, response);
      current.explainedFor = null;
      return;
    }
    current.explanation = data;
  } catch {
    const current = dispatchPanels[callId];
    if (current !== undefined) {
      current.failure = NETWORK_FAILURE;
      current.explainedFor = null;
    }
  }
}

/** Read the dispatch holding the call; 404 means none does (never started, or over). */
export async function readDispatch(callId: string): Promise<void> {
  const { data, response } = await api.GET("/api/calls/{call_id}/dispatch", { params: { path: { call_id: callId } } });
  if (data !== undefined) {
    panelOf(callId).view = data;
  } else if (response.status === 404) {
    panelOf(callId).view = null;
  }
}

export async function startDispatch(callId: string, mode: DispatchMode): Promise<void> {
  await request(callId, () =>
    api.POST("/api/calls/{call_id}/dispatch", { params: { path: { call_id: callId } }, body: { mode, target: null, agency: null, category: null } }),
  );
}

export async function commandDispatch(callId: string, command: DispatchCommand): Promise<void> {
  const params = { params: { path: { call_id: callId } } };
  await request(callId, () => {
    switch (command) {
      case "complete":
        return api.POST("/api/calls/{call_id}/dispatch/complete", params);
      case "cancel":
        return api.POST("/api/calls/{call_id}/dispatch/cancel", params);
      case "leave":
        return api.POST("/api/calls/{call_id}/dispatch/leave", params);
    }
  });
}

async function request(
  callId: string,
  send: () => Promise<{ data?: DispatchView; error?: unknown; response: Response }>,
): Promise<void> {
  const panel = panelOf(callId);
  if (panel.busy) {
    return;
  }
  panel.busy = true;
  panel.failure = null;
  try {
    const { data, error, response } = await send();
    if (data === undefined) {
      panelOf(callId).failure = failureOf(error, response);
    } else {
      panelOf(callId).view = data;
    }
  } catch {
    panelOf(callId).failure = NETWORK_FAILURE;
  } finally {
    panelOf(callId).busy = false;
  }
}

/** The card closed: nothing of its dispatch stays in memory. */
export function forgetDispatch(callId: string): void {
  delete dispatchPanels[callId];
}

/** The route the card's panel shows now: explained for the card's current category and area, else null. */
export function shownRoute(card: Card, categories: readonly Category[]): RouteSummary | null {
  const query = explainQuery(card, categories);
  const panel = dispatchPanels[card.callId];
  if (query === null || !panel?.explanation || panel.explainedFor !== queryKey(query)) {
    return null;
  }
  return routeSummary(panel.explanation);
}
