/** This tab's uploads ({id, filename}), kept in sessionStorage so a reload can show and re-poll them. */
const KEY = "image-pipeline:gallery";

export function loadGallery() {
  try {
    const entries = JSON.parse(sessionStorage.getItem(KEY) ?? "[]");
    return Array.isArray(entries) ? entries.filter((entry) => typeof entry?.id === "string") : [];
  } catch {
    return [];
  }
}

export function rememberUpload(id, filename) {
  const entries = loadGallery().filter((entry) => entry.id !== id);
  entries.push({ id, filename });
  save(entries);
}

export function forgetUpload(id) {
  save(loadGallery().filter((entry) => entry.id !== id));
}

export function clearGallery() {
  sessionStorage.removeItem(KEY);
}

function save(entries) {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(entries));
  } catch {
    // Storage full or disabled: the gallery still works for this page view, it just will not survive a reload.
  }
}
