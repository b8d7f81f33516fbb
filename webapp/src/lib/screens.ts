// One route per screen, and who may see it. Supervisor and agency screens come in later issues: they get a path
// and roles here, and `homeScreen` sends their users there.

export type Role = "operator" | "supervisor" | "admin" | "agency";
export type Screen = "login" | "password" | "operator" | "agency" | "reports";

export const SCREEN_PATHS: Readonly<Record<Screen, string>> = {
  login: "/login",
  password: "/password",
  operator: "/operator",
  agency: "/agency",
  reports: "/reports",
};

// Staff roles include the lower ones (admin > supervisor > operator); agency users are separate.
type RoleScreen = "operator" | "agency" | "reports";
const SCREEN_ROLES: Readonly<Record<RoleScreen, readonly Role[]>> = {
  operator: ["operator", "supervisor", "admin"],
  agency: ["agency"],
  reports: ["supervisor", "admin"],
};

/** Whether `user` may open `screen` (the header offers only those). */
export function mayOpen(user: SignedInUser, screen: RoleScreen): boolean {
  return user.roles.some((role) => SCREEN_ROLES[screen].includes(role));
}

export interface SignedInUser {
  roles: readonly Role[];
  must_change_password: boolean;
}

export function homeScreen(user: SignedInUser): Screen {
  return user.roles.some((role) => SCREEN_ROLES.operator.includes(role)) ? "operator" : "agency";
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
  if (asked === "operator" || asked === "agency" || asked === "reports") {
    return mayOpen(user, asked) ? asked : homeScreen(user);
  }
  return homeScreen(user);
}
