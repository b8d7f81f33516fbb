// One route per screen, and who may see it. A screen gets a path and roles here, and `homeScreen` sends its users
// there; the wallboard, the reports and the tickets of every agency are the supervisors' other screens (their home
// stays the console), the agencies (OPD) screen the admins'.

export type Role = "operator" | "supervisor" | "admin" | "agency";
export type Screen = "login" | "password" | "operator" | "agency" | "tickets" | "wallboard" | "reports" | "agencies";

export const SCREEN_PATHS: Readonly<Record<Screen, string>> = {
  login: "/login",
  password: "/password",
  operator: "/operator",
  agency: "/agency",
  tickets: "/tickets",
  wallboard: "/wallboard",
  reports: "/reports",
  agencies: "/admin/agencies",
};

// Staff roles include the lower ones (admin > supervisor > operator); agency users are separate.
type RoleScreen = "operator" | "agency" | "tickets" | "wallboard" | "reports" | "agencies";
const ROLE_SCREENS: readonly RoleScreen[] = ["operator", "agency", "tickets", "wallboard", "reports", "agencies"];
const SCREEN_ROLES: Readonly<Record<RoleScreen, readonly Role[]>> = {
  operator: ["operator", "supervisor", "admin"],
  agency: ["agency"],
  // Every agency's tickets, where a supervisor closes a resolved one with the final report or reopens it.
  tickets: ["supervisor", "admin"],
  wallboard: ["supervisor", "admin"],
  reports: ["supervisor", "admin"],
  agencies: ["admin"],
};

export interface SignedInUser {
  roles: readonly Role[];
  must_change_password: boolean;
}

/** Whether the user may open `screen` (the header offers the link then). */
export function mayOpen(screen: RoleScreen, user: SignedInUser | null): boolean {
  return user !== null && user.roles.some((role) => SCREEN_ROLES[screen].includes(role));
}

export function homeScreen(user: SignedInUser): Screen {
  return mayOpen("operator", user) ? "operator" : "agency";
}

/** The screen to show for `path`: the login page for anyone not signed in, the password page until a forced change
 * is done, the asked screen when the user's roles allow it, else the user's home screen. */
export function screenFor(path: string, user: SignedInUser | null): Screen {
  if (user === null) {
    return "login";
  }
  if (user.must_change_password) {
    return "password";
  }
  const asked = (Object.keys(SCREEN_PATHS) as Screen[]).find((screen) => SCREEN_PATHS[screen] === path);
  if (asked !== undefined && (ROLE_SCREENS as readonly Screen[]).includes(asked)) {
    const screen = asked as RoleScreen;
    return mayOpen(screen, user) ? screen : homeScreen(user);
  }
  return homeScreen(user);
}
