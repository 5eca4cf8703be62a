/**
 * This tab's uploads ({id, filename, addedAt}), kept in sessionStorage so a reload can show and re-poll them.
 * `addedAt` is when the file was chosen, so a reload shows the images in the order they were chosen even though
 * their uploads finished in another order.
 */
const KEY = "image-pipeline:gallery";

export function loadGallery() {
  try {
    const entries = JSON.parse(sessionStorage.getItem(KEY) ?? "[]");
    if (!Array.isArray(entries)) return [];
    return entries.filter((entry) => typeof entry?.id === "string").sort((a, b) => (a.addedAt ?? 0) - (b.addedAt ?? 0));
  } catch {
    return [];
  }
}

export function rememberUpload(id, filename, addedAt) {
  const entries = loadGallery().filter((entry) => entry.id !== id);
  entries.push({ id, filename, addedAt });
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
