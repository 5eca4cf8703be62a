/** Reads the page the way a person sees it: one card per image in the session gallery. */
import type { Page } from "playwright-core";

export interface VariantRow {
  name: string;
  dimensions: string;
  format: string;
  size: string;
  saving: string;
  href: string;
}

export interface CardView {
  status: string;
  imageId: string;
  statusText: string;
  failure: string;
  variants: VariantRow[];
  /** `currentSrc` is the candidate the browser chose from `srcset`. */
  preview: { alt: string; src: string; currentSrc: string; naturalWidth: number } | undefined;
  placeholderSrc: string;
}

export function card(page: Page, filename: string) {
  return page.locator(`#gallery > li[data-filename="${filename}"]`);
}

/** Waits until the image's card reaches `status` (and fails fast when it settles on another). */
export async function waitForStatus(
  page: Page,
  filename: string,
  status: "done" | "failed",
  timeout = 45_000,
): Promise<void> {
  await page.waitForFunction(
    ({ filename, status }) => {
      const element = document.querySelector<HTMLElement>(`#gallery > li[data-filename="${filename}"]`);
      const current = element?.dataset.status;
      if (
        current &&
        current !== status &&
        ["done", "failed", "upload-failed", "unknown", "gave-up"].includes(current)
      ) {
        throw new Error(`${filename} settled as ${current}, expected ${status}: ${element.innerText}`);
      }
      return current === status;
    },
    { filename, status },
    { timeout, polling: 100 },
  );
}

/**
 * Waits until the browser has settled on the preview of `filename` (of every done card when omitted): shown, its
 * candidate chosen from `srcset` (`currentSrc` is empty until then, even after the card says done) and loaded.
 * Read `currentSrc`, `naturalWidth` or a screenshot only after this.
 */
export async function waitForPreview(page: Page, filename?: string, timeout = 45_000): Promise<void> {
  await page.waitForFunction(
    (filename) => {
      const selector =
        filename === undefined ? '#gallery > li[data-status="done"]' : `#gallery > li[data-filename="${filename}"]`;
      const cards = Array.from(document.querySelectorAll<HTMLElement>(selector));
      if (filename !== undefined && cards.length === 0) return false;
      return cards.every((element) => {
        const img = element.querySelector<HTMLImageElement>(".preview-image");
        return !!img && !img.hidden && img.currentSrc !== "" && img.complete && img.naturalWidth > 0;
      });
    },
    filename,
    { timeout, polling: 100 },
  );
}

export async function readCard(page: Page, filename: string): Promise<CardView> {
  // No named inner functions here: tsx would wrap them in a helper that does not exist in the page.
  return card(page, filename).evaluate((element: HTMLElement) => {
    const shown = [".preview-image", ".preview-placeholder", ".failure"].map((selector) => {
      const found = element.querySelector<HTMLElement>(selector);
      return found && !found.hidden ? found : undefined;
    });
    const [preview, placeholder, failure] = shown as [
      HTMLImageElement | undefined,
      HTMLImageElement | undefined,
      HTMLElement | undefined,
    ];
    return {
      status: element.dataset.status ?? "",
      imageId: element.dataset.imageId ?? "",
      statusText: element.querySelector<HTMLElement>(".status-text")?.innerText.trim() ?? "",
      failure: failure?.innerText.trim() ?? "",
      variants: Array.from(element.querySelectorAll<HTMLTableRowElement>(".variants tbody tr")).map((row) => {
        const [name, dimensions, format, size, saving] = Array.from(row.cells).map((cell) => cell.innerText.trim());
        return {
          name: name!,
          dimensions: dimensions!,
          format: format!,
          size: size!,
          saving: saving!,
          href: row.querySelector("a")!.href,
        };
      }),
      preview: preview
        ? {
            alt: preview.alt,
            src: preview.src,
            currentSrc: (preview as HTMLImageElement).currentSrc,
            naturalWidth: preview.naturalWidth,
          }
        : undefined,
      placeholderSrc: placeholder?.src ?? "",
    };
  });
}

/** Loads `url` as an image in the page (so CORS and CSP apply as they do for the page's own images). */
export function naturalWidthOf(page: Page, url: string): Promise<number> {
  return page.evaluate(async (url) => {
    const image = new Image();
    image.src = url;
    await image.decode();
    return image.naturalWidth;
  }, url);
}

/** Records every value each progress bar showed, per file, from the moment the page loads. */
export const RECORD_PROGRESS = `
  window.__progress = {};
  new MutationObserver((mutations) => {
    for (const mutation of mutations) {
      const bar = mutation.target;
      const card = bar.closest && bar.closest("li[data-filename]");
      if (!card) continue;
      (window.__progress[card.dataset.filename] ??= []).push(Number(bar.getAttribute("aria-valuenow")));
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["aria-valuenow"] });
`;

export function progressOf(page: Page): Promise<Record<string, number[]>> {
  return page.evaluate(() => (window as unknown as { __progress: Record<string, number[]> }).__progress);
}
