// A ticket's photos (web/photo_routes.py): adding one from the phone's camera, and where each is served. The
// service decides what a photo may be (type from its content, size, dimensions); the page only shows its answer.

import type { components } from "../api/schema";
import { failureOf, NETWORK_FAILURE, type ApiFailure } from "../api/client";

export type PhotoView = components["schemas"]["PhotoView"];

/** What the file input offers the camera or gallery; the service checks the content, not this. */
export const PHOTO_ACCEPT = "image/jpeg,image/png,image/webp";

export function photoUrl(ticketId: string, photoId: string): string {
  return `/api/tickets/${encodeURIComponent(ticketId)}/photos/${encodeURIComponent(photoId)}`;
}

/** Why a photo did not load, asked of the service again (an <img> cannot read the JSON error): damaged (410
 * photo_damaged: its stored file no longer matches its checksum) or otherwise unavailable. */
export async function photoFailureKey(url: string): Promise<"photo.damaged" | "photo.unavailable"> {
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    return response.status === 410 ? "photo.damaged" : "photo.unavailable";
  } catch {
    return "photo.unavailable";
  }
}

/** "2,4 MB", "830 KB": a photo's size as the label under its thumbnail shows it. */
export function formatBytes(size: number, language: string): string {
  const locale = language === "id" ? "id-ID" : "en-GB";
  if (size >= 1024 * 1024) {
    return `${(size / (1024 * 1024)).toLocaleString(locale, { maximumFractionDigits: 1 })} MB`;
  }
  return `${Math.max(1, Math.round(size / 1024)).toLocaleString(locale)} KB`;
}

/** POST the file as multipart/form-data, part `photo` (openapi-fetch sends JSON; the browser writes the multipart
 * body and its boundary itself from a FormData). Same origin: the cookie rides along, with the Origin header. */
export async function uploadPhoto(
  ticketId: string,
  file: File,
): Promise<{ ok: true; photo: PhotoView } | { ok: false; failure: ApiFailure; response: Response | null }> {
  const form = new FormData();
  form.append("photo", file, file.name);
  let response: Response;
  try {
    response = await fetch(`/api/tickets/${encodeURIComponent(ticketId)}/photos`, {
      method: "POST",
      credentials: "same-origin",
      body: form,
    });
  } catch {
    return { ok: false, failure: NETWORK_FAILURE, response: null };
  }
  const parsed: unknown = await response.json().catch(() => null);
  return response.ok
    ? { ok: true, photo: parsed as PhotoView }
    : { ok: false, failure: failureOf(parsed, response), response };
}
