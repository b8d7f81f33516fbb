import { describe, expect, it } from "vitest";
import { mayOpen, screenFor, type Role } from "./screens";

const user = (roles: Role[], mustChange = false) => ({ roles, must_change_password: mustChange });

describe("screenFor", () => {
  it("sends anyone not signed in to the login page, whatever the path", () => {
    expect(screenFor("/operator", null)).toBe("login");
    expect(screenFor("/", null)).toBe("login");
  });

  it("holds a forced password change before anything else", () => {
    expect(screenFor("/operator", user(["operator"], true))).toBe("password");
  });

  it("gives each role its home and refuses screens of other roles", () => {
    expect(screenFor("/", user(["operator"]))).toBe("operator");
    expect(screenFor("/login", user(["supervisor"]))).toBe("operator");
    expect(screenFor("/operator", user(["admin"]))).toBe("operator");
    expect(screenFor("/agency", user(["operator"]))).toBe("operator");
    expect(screenFor("/operator", user(["agency"]))).toBe("agency");
    expect(screenFor("/nowhere", user(["agency"]))).toBe("agency");
  });

  it("opens the agencies (OPD) screen to admins only", () => {
    expect(screenFor("/admin/agencies", user(["admin"]))).toBe("agencies");
    expect(screenFor("/admin/agencies", user(["supervisor"]))).toBe("operator");
    expect(screenFor("/admin/agencies", user(["agency"]))).toBe("agency");
    expect(mayOpen("agencies", user(["operator", "supervisor"]))).toBe(false);
  });

  it("opens the reports to supervisors and admins only", () => {
    expect(screenFor("/reports", user(["supervisor"]))).toBe("reports");
    expect(screenFor("/reports", user(["admin"]))).toBe("reports");
    expect(screenFor("/reports", user(["operator"]))).toBe("operator");
    expect(screenFor("/reports", user(["agency"]))).toBe("agency");
  });

  it("opens every agency's tickets to supervisors and admins only", () => {
    expect(screenFor("/tickets", user(["supervisor"]))).toBe("tickets");
    expect(screenFor("/tickets", user(["admin"]))).toBe("tickets");
    expect(screenFor("/tickets", user(["operator"]))).toBe("operator");
    expect(screenFor("/tickets", user(["agency"]))).toBe("agency");
    expect(mayOpen("tickets", user(["operator"]))).toBe(false);
  });

  it("opens the wallboard to supervisors and admins only", () => {
    expect(screenFor("/wallboard", user(["supervisor"]))).toBe("wallboard");
    expect(screenFor("/wallboard", user(["admin"]))).toBe("wallboard");
    expect(screenFor("/wallboard", user(["operator"]))).toBe("operator");
    expect(screenFor("/wallboard", user(["agency"]))).toBe("agency");
    expect(mayOpen("wallboard", user(["operator"]))).toBe(false);
    expect(mayOpen("wallboard", user(["supervisor"]))).toBe(true);
    expect(mayOpen("wallboard", null)).toBe(false);
  });
});
