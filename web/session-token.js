/**
 * Token mode: the user's access token, kept in sessionStorage (this tab only, gone when it closes) and sent in
 * the Authorization header; never put in a URL, where it would reach server logs and the Referer.
 */
const KEY = "image-pipeline:token";

export function loadToken() {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function saveToken(token) {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Storage disabled: signed in for this page view only.
  }
}

export function forgetToken() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing kept
  }
}

/** The token's `sub`, for display only (the API verifies the token; the page cannot). */
export function subjectOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(payload), (c) => c.charCodeAt(0))));
    return typeof claims.sub === "string" ? claims.sub : undefined;
  } catch {
    return undefined;
  }
}
