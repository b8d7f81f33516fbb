import { describe, expect, it } from "vitest";
import { contactsOf, draftOf, emptyDraft, fieldOfIssue, formOf, listOf, type AgencyForm } from "./agencies";

const PUPR: AgencyForm = {
  id: "pupr",
  name: "Dinas PUPR",
  kind: "transport",
  desks: ["pupr-desk1", "pupr-desk2"],
  numbers: ["0215550001"],
  trunk: "agency-trunk",
  webhook: { url: "https://gw.example/112/pupr", include_caller_number: false },
  head: { name: "Kepala Dinas PUPR", phone: "+6281100000010" },
  duty: [{ name: "Piket, Shift Pagi", phone: "081100000011" }],
  duty_number: "0215550002",
  limits: { road: { acknowledge_minutes: 15, resolve_minutes: null, escalate_minutes: 30 } },
  categories: ["road"],
};

describe("the agency form", () => {
  it("round-trips a form through the text fields the admin edits", () => {
    const draft = draftOf(PUPR);
    expect(draft.desks).toBe("pupr-desk1, pupr-desk2");
    expect(draft.duty).toBe("Piket, Shift Pagi, 081100000011");
    expect(formOf(draft)).toEqual({ form: PUPR });
  });

  it("reads lists typed with commas, spaces, semicolons or lines", () => {
    expect(listOf(" 110, 113;119\n 0215550001 ,")).toEqual(["110", "113", "119", "0215550001"]);
    expect(listOf("  ")).toEqual([]);
  });

  it("takes the phone after the last comma and names a line without one", () => {
    expect(contactsOf("A, 0811\n\nB, C, 0812")).toEqual({
      contacts: [
        { name: "A", phone: "0811" },
        { name: "B, C", phone: "0812" },
      ],
      badLine: null,
    });
    expect(contactsOf("A, 0811\nno phone").badLine).toBe(2);
    expect(formOf({ ...emptyDraft(), duty: "Budi 0811" })).toEqual({
      problem: { field: "duty", key: "agencies.problem.contactLine", line: 1 },
    });
  });

  it("refuses a head without a phone and limits that are no numbers", () => {
    expect(formOf({ ...emptyDraft(), headName: "Kadis" })).toMatchObject({ problem: { field: "headName" } });
    const limits = [{ category: "road", acknowledge: "lima", resolve: "", escalate: "" }];
    expect(formOf({ ...emptyDraft(), limits })).toMatchObject({ problem: { field: "limits" } });
    const decimal = [{ category: "road", acknowledge: "0,5", resolve: "", escalate: "" }];
    const built = formOf({ ...emptyDraft(), limits: decimal });
    expect("form" in built && built.form.limits?.road).toEqual({
      acknowledge_minutes: 0.5,
      resolve_minutes: null,
      escalate_minutes: 30,
    });
  });

  it("leaves out a webhook and a head that are empty", () => {
    const built = formOf({ ...emptyDraft(), id: "dinsos", name: "Dinsos" });
    expect("form" in built && [built.form.webhook, built.form.head, built.form.duty_number]).toEqual([null, null, null]);
  });

  it("marks the field a refusal of the service names", () => {
    expect(fieldOfIssue({ section: "agencies", field: "desks.0" })).toBe("desks");
    expect(fieldOfIssue({ section: "agencies", field: "webhook.url" })).toBe("webhookUrl");
    expect(fieldOfIssue({ section: "rules", field: "categories[0]" })).toBe("categories");
    expect(fieldOfIssue({ section: "rules", field: "chain[1].target" })).toBeNull();
    expect(fieldOfIssue({ section: "agencies", field: "duty_number" })).toBe("dutyNumber");
  });
});
