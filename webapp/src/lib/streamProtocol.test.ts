import { describe, expect, it } from "vitest";
import { BACKOFF_CAP_MS, parseServerMessage, reconnectDelay } from "./streamProtocol";

describe("parseServerMessage", () => {
  it("reads each frame type", () => {
    expect(parseServerMessage('{"type":"hello","user":"ani","server_time":"2026-12-04T10:00:00Z"}')).toEqual({
      type: "hello",
      user: "ani",
      server_time: "2026-12-04T10:00:00Z",
    });
    expect(parseServerMessage('{"type":"card","call_id":"c1","reason":"answered"}')).toEqual({
      type: "card",
      call_id: "c1",
      reason: "answered",
    });
    expect(parseServerMessage('{"type":"call_changed","call_id":"c1"}')?.type).toBe("call_changed");
    expect(parseServerMessage('{"type":"operator_changed","username":"ani"}')?.type).toBe("operator_changed");
    expect(parseServerMessage('{"type":"queue","waiting":3}')).toEqual({ type: "queue", waiting: 3 });
    expect(parseServerMessage('{"type":"resync"}')).toEqual({ type: "resync" });
    expect(parseServerMessage('{"type":"callbacks_changed"}')).toEqual({ type: "callbacks_changed" });
    expect(parseServerMessage('{"type":"tickets_changed","ticket_id":"t1"}')).toEqual({
      type: "tickets_changed",
      ticket_id: "t1",
    });
    expect(parseServerMessage('{"type":"room_changed","call_id":"c1"}')).toEqual({
      type: "room_changed",
      call_id: "c1",
    });
  });

  it("skips what it cannot trust", () => {
    for (const text of [
      "not json",
      "null",
      "[]",
      '{"type":"card","call_id":"c1","reason":"dialling"}',
      '{"type":"card","reason":"ringing"}',
      '{"type":"queue","waiting":-1}',
      '{"type":"queue","waiting":"3"}',
      '{"type":"tickets_changed"}',
      '{"type":"tickets_changed","ticket_id":7}',
      '{"type":"room_changed"}',
      '{"type":"something_new"}',
    ]) {
      expect(parseServerMessage(text)).toBeNull();
    }
  });
});

describe("reconnectDelay", () => {
  it("doubles from half a second with jitter in the upper half, capped", () => {
    expect(reconnectDelay(0, 0)).toBe(250);
    expect(reconnectDelay(0, 0.999)).toBeLessThanOrEqual(500);
    expect(reconnectDelay(3, 0)).toBe(2000);
    expect(reconnectDelay(3, 0.5)).toBe(3000);
    expect(reconnectDelay(50, 0.999)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    expect(reconnectDelay(50, 0)).toBe(BACKOFF_CAP_MS / 2);
  });
});
