// Writing from the card: classifying (PUT incident), the incident form saved as the operator types (debounced),
// and the operator's manual pin (POST locations). Answers go through the card reducer like everything else.

import { api, failureOf, NETWORK_FAILURE, type ApiFailure } from "../api/client";
import type { Card } from "./cards";
import { asRequestBody, classificationBody, draftFields, EMPTY_DRAFT, type Draft, type IncidentChange } from "./classify";
import { dispatch, readCall } from "./stream.svelte";

export type SaveState = "saving" | "saved" | ApiFailure;

export const drafts = $state<Record<string, Draft>>({});
export const saves = $state<Record<string, SaveState>>({});

const SAVE_DELAY_MS = 600;
// A click on the map is about as sure as a street address: the operator's pin says "here, give or take 50 m".
const PIN_RADIUS_M = 50;
const timers = new Map<string, ReturnType<typeof setTimeout>>();

/** The card's draft, started from its incident once that is read. */
export function draftOf(card: Card): Draft {
  const existing = drafts[card.callId];
  if (existing !== undefined) {
    return existing;
  }
  const incident = card.incident;
  return incident
    ? {
        severity: (incident.severity as Draft["severity"]) ?? null,
        address: incident.address ?? "",
        description: incident.description ?? "",
      }
    : { ...EMPTY_DRAFT };
}

export async function classify(card: Card, category: string): Promise<void> {
  await put(card.callId, classificationBody(card, category, draftOf(card)));
}

/** Keep what the operator typed; once the call is classified, save it after a pause in the typing. */
export function editDraft(card: Card, draft: Draft): void {
  drafts[card.callId] = draft;
  const category = card.incident?.category;
  if (category === undefined) {
    return; // sent with the classification
  }
  clearTimeout(timers.get(card.callId));
  timers.set(
    card.callId,
    setTimeout(() => {
      timers.delete(card.callId);
      void put(card.callId, { category, ...draftFields(draft) });
    }, SAVE_DELAY_MS),
  );
}

/** Drop a closed card's draft and save state, so a shift's cards do not pile up here. Kept while a save is still
 * pending or on its way (it reads and writes them); the rare card closed that fast leaves its two small entries. */
export function forgetEdits(callId: string): void {
  if (timers.has(callId) || saves[callId] === "saving") {
    return;
  }
  delete drafts[callId];
  delete saves[callId];
}

async function put(callId: string, body: IncidentChange): Promise<void> {
  saves[callId] = "saving";
  try {
    const { data, error, response } = await api.PUT("/api/calls/{call_id}/incident", {
      params: { path: { call_id: callId } },
      body: asRequestBody(body),
    });
    if (data === undefined) {
      saves[callId] = failureOf(error, response);
      return;
    }
    dispatch({ type: "incident", callId, incident: data });
    saves[callId] = "saved";
  } catch {
    saves[callId] = NETWORK_FAILURE;
  }
}

/** Store the operator's pin as a fix of source operator; the card then reads its call again. */
export async function dropPin(callId: string, lat: number, lon: number): Promise<ApiFailure | null> {
  try {
    const { data, error, response } = await api.POST("/api/calls/{call_id}/locations", {
      params: { path: { call_id: callId } },
      body: { lat, lon, radius_m: PIN_RADIUS_M, note: null },
    });
    if (data === undefined) {
      return failureOf(error, response);
    }
  } catch {
    return NETWORK_FAILURE;
  }
  await readCall(callId);
  return null;
}
