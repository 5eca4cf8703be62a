/** One image in the session gallery: its upload progress, its processing state, then its variants. */
import { describeFailure, describeSaving, formatBytes, savingPercent, typeName } from "./format.js";

const STATUS_BADGES = {
  queued: ["Waiting", "text-bg-secondary"],
  uploading: ["Uploading", "text-bg-primary"],
  "upload-failed": ["Upload failed", "text-bg-danger"],
  pending: ["Queued", "text-bg-info"],
  processing: ["Processing", "text-bg-info"],
  done: ["Ready", "text-bg-success"],
  failed: ["Failed", "text-bg-danger"],
  retrying: ["Retrying", "text-bg-warning"],
  "gave-up": ["Still processing", "text-bg-warning"],
  unknown: ["Not found", "text-bg-secondary"],
};

/** The preview's fallback `src` (for a view without `srcset`): the smallest variant at least this wide, else the largest. */
const PREVIEW_MIN_WIDTH = 640;

/**
 * How wide the preview is drawn (styles.css and the card's grid): a third of the 960 px page from Bootstrap's lg
 * breakpoint, a third of the viewport from sm, and at most 20rem on a phone. With `srcset`, the browser picks
 * the variant from this and the screen's pixel density.
 */
const PREVIEW_SIZES = "(min-width: 992px) 312px, (min-width: 576px) 33vw, min(calc(100vw - 24px), 320px)";

export class ImageCard {
  /** @param {string} [previewNote] shown instead of "No preview yet" (a format the browser cannot show itself) */
  constructor(template, filename, previewNote) {
    this.element = template.content.firstElementChild.cloneNode(true);
    this.element.dataset.filename = filename;
    this.filename = filename;
    this.part = (name) => this.element.querySelector(`.${name}`);
    this.part("filename").textContent = filename;
    this.part("preview-empty").textContent = previewNote ?? "No preview yet";
    this.showQueued();
  }

  showQueued() {
    this.#hideProblems();
    this.#setStatus("queued", "Waiting for a free upload slot…");
  }

  onRetry(handler) {
    this.part("retry").addEventListener("click", handler);
  }

  onCheckAgain(handler) {
    this.part("check-again").addEventListener("click", handler);
  }

  /** Token mode: the owner may delete the image; `handler` asks for confirmation itself. */
  offerDelete(handler) {
    const button = this.part("delete-image");
    button.setAttribute("aria-label", `Delete ${this.filename}`);
    button.addEventListener("click", handler);
    this.part("owner-actions").hidden = false;
  }

  showUploading(fraction) {
    const percent = Math.round(fraction * 100);
    this.#setStatus("uploading", `Uploading… ${percent}%`);
    this.#hideProblems();
    const progress = this.part("progress");
    progress.hidden = false;
    progress.setAttribute("aria-valuenow", String(percent));
    progress.setAttribute("aria-label", `Upload of ${this.filename}`);
    const bar = this.part("progress-bar");
    bar.style.width = `${percent}%`; // CSSOM: allowed by a strict style-src, unlike a style attribute
    bar.textContent = `${percent}%`;
  }

  showUploadFailed(message, retryable) {
    this.#setStatus("upload-failed", retryable ? "The upload did not finish." : "The pipeline refused this file.");
    this.part("progress").hidden = true;
    this.#showFailure(message);
    if (retryable) this.#showAction("retry");
  }

  /** A record read from GET /images/{id}. */
  showImage(image) {
    this.element.dataset.imageId = image.id;
    this.part("progress").hidden = true;
    if (image.status === "done") this.#showDone(image);
    else if (image.status === "failed") this.#showFailed(image);
    else {
      this.#hideProblems();
      this.#setStatus(
        image.status,
        image.status === "pending" ? "Uploaded; waiting for the processor…" : "Making the sizes…",
      );
    }
  }

  /** Not settled long after a first attempt would have: the pipeline is retrying it, for up to `minutes` in all. */
  showRetrying(minutes) {
    this.#setStatus(
      "retrying",
      `Taking longer than usual: the pipeline is retrying it (for up to ${minutes} minutes in all); the page keeps checking.`,
    );
  }

  showGaveUp(minutes) {
    this.#setStatus("gave-up", `Still not finished after ${minutes} minutes, so the page stopped checking.`);
    this.#showAction("check-again");
  }

  showUnknown() {
    this.#setStatus("unknown", "The pipeline no longer knows this image.");
    this.part("progress").hidden = true;
  }

  #showDone(image) {
    this.#hideProblems();
    const count = image.variants.length;
    this.#setStatus("done", `Ready: ${count} ${count === 1 ? "size" : "sizes"}.`);
    this.#showPreview(image);
    if (image.original) {
      const { width, height, format, bytes } = image.original;
      const original = this.part("original");
      original.hidden = false;
      original.textContent = `Original: ${width} × ${height} ${typeName(`image/${format}`)}, ${formatBytes(bytes)}`;
    }
    this.#showVariants(image);
  }

  #showFailed(image) {
    this.#setStatus("failed", "The pipeline could not process this image.");
    this.#showFailure(describeFailure(image.error));
    this.part("preview-empty").textContent = "No preview";
    this.element.dataset.errorCode = image.error?.code ?? "";
  }

  #showPreview(image) {
    const placeholder = this.part("preview-placeholder");
    if (image.placeholder) {
      placeholder.src = image.placeholder;
      placeholder.hidden = false;
    }
    const byWidth = [...image.variants].sort((a, b) => a.width - b.width);
    const chosen = byWidth.find((variant) => variant.width >= PREVIEW_MIN_WIDTH) ?? byWidth.at(-1);
    if (!chosen) return;
    const preview = this.part("preview-image");
    preview.alt = `${image.filename}, ${chosen.width} × ${chosen.height}`;
    preview.width = chosen.width;
    preview.height = chosen.height;
    preview.addEventListener("load", () => preview.classList.add("is-loaded"), { once: true });
    // One <source> per format, best first: the browser takes the first type it decodes (AVIF, then WebP...).
    const picture = this.part("preview-picture");
    for (const old of picture.querySelectorAll("source")) old.remove();
    for (const { type, srcset } of image.sources ?? []) {
      const source = document.createElement("source");
      source.type = type;
      source.sizes = PREVIEW_SIZES;
      source.srcset = srcset;
      picture.insertBefore(source, preview);
    }
    if (image.srcset) {
      // Before src, so the browser never starts fetching the fallback.
      preview.sizes = PREVIEW_SIZES;
      preview.srcset = image.srcset;
    }
    preview.src = chosen.url;
    preview.hidden = false;
    this.part("preview-empty").hidden = true;
  }

  #showVariants(image) {
    this.part("variants-wrap").hidden = false;
    this.part("variants").querySelector("caption").textContent = `Sizes made from ${image.filename}`;
    const rows = image.variants.map((variant) => {
      const row = document.createElement("tr");
      row.dataset.variant = variant.name;
      const saving = savingPercent(variant.bytes, image.original?.bytes);
      const cells = [
        variant.name,
        `${variant.width} × ${variant.height}`,
        typeName(`image/${variant.format}`),
        formatBytes(variant.bytes),
        describeSaving(saving),
      ];
      cells.forEach((text, index) => {
        const cell = document.createElement(index === 0 ? "th" : "td");
        if (index === 0) cell.scope = "row";
        if (index >= 3) cell.className = "text-end text-nowrap";
        if (index === 4 && saving !== undefined)
          cell.classList.add(saving >= 0 ? "text-success" : "text-warning-emphasis");
        cell.textContent = text;
        row.append(cell);
      });
      const linkCell = document.createElement("td");
      linkCell.className = "text-end";
      const link = document.createElement("a");
      link.href = variant.url;
      link.target = "_blank";
      link.rel = "noopener";
      link.className = "link-offset-2";
      link.textContent = "Open";
      link.setAttribute("aria-label", `Open the ${variant.name} size of ${image.filename}`);
      linkCell.append(link);
      row.append(linkCell);
      return row;
    });
    this.part("variants")
      .querySelector("tbody")
      .replaceChildren(...rows);
  }

  #setStatus(status, text) {
    this.element.dataset.status = status;
    const [label, style] = STATUS_BADGES[status];
    const badge = this.part("status-badge");
    badge.className = `badge status-badge ms-auto ${style}`;
    badge.textContent = label;
    this.part("status-text").textContent = text;
  }

  #showFailure(message) {
    const failure = this.part("failure");
    failure.hidden = false;
    failure.textContent = message;
  }

  #showAction(name) {
    this.part("actions").hidden = false;
    this.part("retry").hidden = name !== "retry";
    this.part("check-again").hidden = name !== "check-again";
  }

  #hideProblems() {
    this.part("failure").hidden = true;
    this.part("actions").hidden = true;
  }
}
