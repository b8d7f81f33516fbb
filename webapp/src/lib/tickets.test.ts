import { describe, expect, it } from "vitest";
import {
  categoryLabel,
  formatCoordinates,
  moveLabel,
  needsOf,
  orderedMoves,
  severityKey,
  STATUS_FILTERS,
  statusFilterFrom,
  statusFilterKey,
  ticketAge,
  ticketReads,
} from "./tickets";

const NOW = new Date("2026-12-04T10:00:00Z");
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();

describe("ticketAge", () => {
  it("counts seconds, minutes, hours with minutes, then days", () => {
    expect(ticketAge(ago(45), NOW)).toEqual({ key: "ticket.ageSeconds", values: { n: 45 } });
    expect(ticketAge(ago(12 * 60 + 59), NOW)).toEqual({ key: "ticket.ageMinutes", values: { n: 12 } });
    expect(ticketAge(ago(3 * 3600 + 5 * 60), NOW)).toEqual({ key: "ticket.ageHours", values: { h: 3, m: "05" } });
    expect(ticketAge(ago(50 * 3600), NOW)).toEqual({ key: "ticket.ageDays", values: { n: 2 } });
  });

  it("never shows a negative age when the phone's clock is behind", () => {
    expect(ticketAge(new Date(NOW.getTime() + 30_000).toISOString(), NOW)).toEqual({
      key: "ticket.ageSeconds",
      values: { n: 0 },
    });
  });
});

describe("orderedMoves", () => {
  it("puts the next step of the flow first and refusals last", () => {
    expect(orderedMoves(["rejected", "acknowledged"])).toEqual(["acknowledged", "rejected"]);
    expect(orderedMoves(["resolved", "on_scene"])).toEqual(["on_scene", "resolved"]);
    expect(orderedMoves([])).toEqual([]);
  });

  it("puts closing before reopening on a resolved ticket, labelled as a reopening", () => {
    expect(orderedMoves(["acknowledged", "closed"], "resolved")).toEqual(["closed", "acknowledged"]);
    expect(orderedMoves(["acknowledged", "rejected"], "sent")).toEqual(["acknowledged", "rejected"]);
    expect(moveLabel("resolved", "acknowledged")).toBe("ticket.move.reopen");
    expect(moveLabel("sent", "acknowledged")).toBe("ticket.move.acknowledged");
    expect(moveLabel("resolved", "closed")).toBe("ticket.move.closed");
  });
});

describe("needsOf", () => {
  it("asks a report to close and a reason to reject, cancel or reopen", () => {
    expect(needsOf("resolved", "closed")).toBe("report");
    expect(needsOf("sent", "rejected")).toBe("reason");
    expect(needsOf("on_scene", "cancelled")).toBe("reason");
    expect(needsOf("closed", "acknowledged")).toBe("reason");
    expect(needsOf("sent", "acknowledged")).toBe("nothing");
    expect(needsOf("en_route", "on_scene")).toBe("nothing");
  });
});

describe("formatCoordinates", () => {
  it("gives six decimals", () => {
    expect(formatCoordinates(-6.2345678, 106.631234)).toBe("-6.234568, 106.631234");
  });
});

describe("severityKey", () => {
  it("labels the known severities only", () => {
    expect(severityKey("critical")).toBe("ticket.severity.critical");
    expect(severityKey(null)).toBeNull();
    expect(severityKey("apocalyptic")).toBeNull();
  });
});

describe("categoryLabel", () => {
  const ticket = { category: "fallen_tree", category_label_id: "Pohon tumbang", category_label_en: "Fallen tree" };

  it("names the category in the reader's language, or by its id once the table lost it", () => {
    expect(categoryLabel(ticket, "id")).toBe("Pohon tumbang");
    expect(categoryLabel(ticket, "en")).toBe("Fallen tree");
    expect(categoryLabel({ category: "flood", category_label_id: null, category_label_en: null }, "id")).toBe("flood");
  });
});

describe("ticketReads", () => {
  const hello = { type: "hello", user: "polisi1", server_time: "2026-12-04T10:00:00Z" } as const;
  const changed = (id: string) => ({ type: "tickets_changed", ticket_id: id }) as const;

  it("reads everything after hello", () => {
    expect(ticketReads(hello, null)).toEqual({ list: true, ticket: false });
    expect(ticketReads(hello, "t1")).toEqual({ list: true, ticket: true });
  });

  it("reads the list on any ticket's change, the open ticket only when it changed", () => {
    expect(ticketReads(changed("t1"), null)).toEqual({ list: true, ticket: false });
    expect(ticketReads(changed("t1"), "t1")).toEqual({ list: true, ticket: true });
    expect(ticketReads(changed("t2"), "t1")).toEqual({ list: true, ticket: false });
  });

  it("ignores the console's frames", () => {
    expect(ticketReads({ type: "queue", waiting: 2 }, "t1")).toEqual({ list: false, ticket: false });
    expect(ticketReads({ type: "resync" }, "t1")).toEqual({ list: false, ticket: false });
  });
});

describe("status filters", () => {
  it("offer open first, then all, then every status, each with its label", () => {
    expect(STATUS_FILTERS.slice(0, 3)).toEqual(["open", "all", "new"]);
    expect(STATUS_FILTERS).toHaveLength(11);
    expect(statusFilterKey("open")).toBe("tickets.filter.open");
    expect(statusFilterKey("cancelled")).toBe("ticket.status.cancelled");
  });
});

describe("statusFilterFrom", () => {
  it("takes a known filter from the address and falls back to the open tickets", () => {
    expect(statusFilterFrom("?status=cancelled")).toBe("cancelled");
    expect(statusFilterFrom("?tv=1&status=all")).toBe("all");
    expect(statusFilterFrom("")).toBe("open");
    expect(statusFilterFrom("?status=burning")).toBe("open");
    expect(statusFilterFrom("?status=CLOSED")).toBe("open");
  });
});
