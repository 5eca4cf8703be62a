/** The page: takes files (drop, picker, paste), refuses what the pipeline would refuse, uploads, and follows each image. */
import { createUpload, deleteImage, getConfig, listImages, uploadForm, useToken } from "./api.js";
import { contentTypeOfFile, previewNoteOf, refusalOf } from "./file-checks.js";
import { formatBytes, listOfTypes } from "./format.js";
import { ImageCard } from "./image-card.js";
import { createLimit } from "./limit.js";
import { pollImage, pollOptionsFor, RETRYING_AFTER_MS } from "./poll.js";
import { forgetUpload, loadGallery, rememberUpload } from "./session-gallery.js";
import { forgetToken, loadToken, saveToken, subjectOf } from "./session-token.js";

const UPLOADS_AT_ONCE = 3;
/** A presigned upload is reused on retry only while it has at least this long left. */
const UPLOAD_REUSE_MARGIN_MS = 60_000;
const SETTLED = new Set(["done", "failed", "unknown", "gave-up"]);
/** Statuses of POST /uploads that mean "this file, as described, is refused". */
const REFUSALS = new Set([400, 413, 415]);

const $ = (id) => document.getElementById(id);
const ui = {
  dropZone: $("drop-zone"),
  hint: $("drop-zone-hint"),
  input: $("file-input"),
  configError: $("config-error"),
  refusals: $("refusals"),
  gallery: $("gallery"),
  galleryCount: $("gallery-count"),
  galleryEmpty: $("gallery-empty"),
  clearGallery: $("clear-gallery"),
  announcer: $("announcer"),
  cardTemplate: $("image-card"),
  galleryHeading: $("gallery-heading"),
  loadMore: $("load-more"),
  signIn: $("sign-in"),
  signInForm: $("sign-in-form"),
  tokenInput: $("token-input"),
  signInError: $("sign-in-error"),
  signedIn: $("signed-in"),
  signedInSub: $("signed-in-sub"),
  signOut: $("sign-out"),
};

const uploadSlot = createLimit(UPLOADS_AT_ONCE);
let config;
/** Token mode (the API names an issuer in /config): uploads and images need a signed-in user. */
let tokenMode = false;
let signedIn = false;
let nextPage;

const uploadsOpen = () => config !== undefined && (!tokenMode || signedIn);

function announce(text) {
  const line = document.createElement("p");
  line.textContent = text;
  ui.announcer.append(line);
  while (ui.announcer.childElementCount > 5) ui.announcer.firstElementChild.remove();
}

function updateGalleryChrome() {
  const count = ui.gallery.childElementCount;
  ui.galleryCount.textContent = String(count);
  ui.galleryEmpty.hidden = count > 0;
  // In token mode the list is the user's images, not this tab's: clearing it would only hide them.
  ui.clearGallery.hidden = count === 0 || tokenMode;
}

function addCard(filename, { atEnd = false, previewNote } = {}) {
  const card = new ImageCard(ui.cardTemplate, filename, previewNote);
  if (atEnd) ui.gallery.append(card.element);
  else ui.gallery.prepend(card.element);
  updateGalleryChrome();
  return card;
}

/** Token mode: the owner's Delete, after a confirmation, for an image the API knows. */
function offerDelete(card, id) {
  if (!tokenMode) return;
  card.offerDelete(async () => {
    if (!window.confirm(`Delete ${card.filename}? Its sizes and its original are removed for good.`)) return;
    try {
      await deleteImage(id);
    } catch (error) {
      if (error.status !== 404) {
        announce(`${card.filename} was not deleted. ${error.message}`);
        card.part("failure").hidden = false;
        card.part("failure").textContent = `Not deleted: ${error.message}`;
        return;
      }
    }
    forgetUpload(id);
    card.element.remove();
    updateGalleryChrome();
    announce(`${card.filename} was deleted.`);
  });
}

function showRefusal(filename, reason) {
  const item = document.createElement("li");
  item.className = "alert alert-warning d-flex align-items-start gap-2 py-2 px-3 mb-2 refusal";
  item.dataset.filename = filename;
  const text = document.createElement("div");
  text.className = "flex-grow-1 small";
  const name = document.createElement("strong");
  name.className = "text-break";
  name.textContent = filename;
  text.append(name, ` was not uploaded. ${reason}`);
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.className = "btn-close btn-sm";
  dismiss.setAttribute("aria-label", `Dismiss the message about ${filename}`);
  dismiss.addEventListener("click", () => item.remove());
  item.append(text, dismiss);
  ui.refusals.append(item);
  announce(`${filename} was not uploaded. ${reason}`);
}

/** Follows an uploaded image until it settles, announcing each change of status. */
async function follow(card, id) {
  let lastStatus;
  try {
    const options = pollOptionsFor(config);
    const minutes = Math.round(options.giveUpAfterMs / 60_000);
    const result = await pollImage(
      id,
      (image, elapsedMs) => {
        card.showImage(image);
        const retrying = elapsedMs > RETRYING_AFTER_MS && (image.status === "pending" || image.status === "processing");
        if (retrying) card.showRetrying(minutes);
        if (retrying && lastStatus !== "retrying") {
          lastStatus = "retrying";
          announce(`${card.filename} is taking longer than usual; the pipeline is retrying it.`);
        }
        if (retrying || image.status === lastStatus) return;
        lastStatus = image.status;
        if (image.status === "processing") announce(`${card.filename}: processing.`);
        if (image.status === "done") announce(`${card.filename} is ready in ${image.variants.length} sizes.`);
        if (image.status === "failed")
          announce(`${card.filename} could not be processed. ${card.part("failure").textContent}`);
      },
      options,
    );
    if (result.outcome === "gave-up") {
      card.showGaveUp(minutes);
      announce(`${card.filename} is still processing after ${minutes} minutes; the page stopped checking.`);
    }
  } catch {
    card.showUnknown();
    forgetUpload(id);
    announce(`${card.filename} is no longer known to the pipeline.`);
  }
}

/** The last `addedAt` handed out: files chosen together (one millisecond) still get distinct, ordered times. */
let lastAddedAt = 0;

function startUpload(file) {
  const card = addCard(file.name, { previewNote: previewNoteOf(file) });
  const addedAt = Math.max(Date.now(), lastAddedAt + 1);
  lastAddedAt = addedAt;
  let upload;
  let id;
  card.onCheckAgain(() => follow(card, id));

  const attempt = () =>
    uploadSlot(async () => {
      card.showUploading(0);
      let stage = "request";
      try {
        const reusable = upload && Date.parse(upload.expiresAt) - Date.now() > UPLOAD_REUSE_MARGIN_MS;
        if (!reusable) {
          upload = await createUpload({ filename: file.name, contentType: contentTypeOfFile(file), size: file.size });
        }
        stage = "storage";
        await uploadForm(upload.upload, file, (fraction) => card.showUploading(fraction));
      } catch (error) {
        // The API refusing the file itself will refuse it again; anything else is worth a retry.
        const refusedByApi = stage === "request" && REFUSALS.has(error.status);
        // Storage refusing the form (a rejected or expired policy) needs a fresh presigned upload next time.
        if (stage === "storage" && error.status > 0) upload = undefined;
        card.showUploadFailed(error.message, !refusedByApi);
        announce(`${file.name}: the upload failed. ${error.message}`);
        return;
      }
      id = upload.id;
      rememberUpload(id, file.name, addedAt);
      offerDelete(card, id);
      card.showImage({ id, status: "pending", filename: file.name, variants: [] });
      announce(`${file.name} uploaded; waiting for processing.`);
      void follow(card, id);
    });

  card.onRetry(() => {
    card.showQueued();
    void attempt();
  });
  void attempt();
}

function takeFiles(fileList) {
  const files = [...(fileList ?? [])];
  if (files.length === 0) return;
  if (!config) {
    announce("The page is still loading the pipeline's limits; try again in a moment.");
    return;
  }
  if (!uploadsOpen()) {
    announce("Sign in first: this pipeline takes uploads from signed-in users only.");
    return;
  }
  for (const file of files) {
    const refusal = refusalOf(file, config);
    if (refusal) showRefusal(file.name, refusal);
    else startUpload(file);
  }
}

function restoreGallery() {
  for (const entry of loadGallery()) {
    const card = addCard(entry.filename ?? entry.id);
    card.part("status-text").textContent = "Checking…";
    card.onCheckAgain(() => follow(card, entry.id));
    void follow(card, entry.id);
  }
}

function wireInputs() {
  const openPicker = () => {
    if (uploadsOpen()) ui.input.click();
  };
  ui.dropZone.addEventListener("click", openPicker);
  ui.dropZone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      openPicker();
    }
  });
  ui.input.addEventListener("change", () => {
    takeFiles(ui.input.files);
    ui.input.value = "";
  });

  for (const type of ["dragenter", "dragover"]) {
    ui.dropZone.addEventListener(type, (event) => {
      event.preventDefault();
      ui.dropZone.classList.add("is-dragging");
    });
  }
  ui.dropZone.addEventListener("dragleave", () => ui.dropZone.classList.remove("is-dragging"));
  ui.dropZone.addEventListener("drop", (event) => {
    event.preventDefault();
    ui.dropZone.classList.remove("is-dragging");
    takeFiles(event.dataTransfer?.files);
  });
  // A file dropped beside the zone must not make the browser navigate away from the page.
  for (const type of ["dragover", "drop"]) document.addEventListener(type, (event) => event.preventDefault());

  document.addEventListener("paste", (event) => takeFiles(event.clipboardData?.files));

  ui.clearGallery.addEventListener("click", () => {
    for (const item of [...ui.gallery.children]) {
      if (!SETTLED.has(item.dataset.status)) continue;
      if (item.dataset.imageId) forgetUpload(item.dataset.imageId);
      item.remove();
    }
    updateGalleryChrome();
  });
}

/** Token mode: one page of the signed-in user's images, appended in order (newest first). */
function showListedImages(page) {
  for (const image of page.images) {
    const card = addCard(image.filename, { atEnd: true });
    card.showImage(image);
    card.onCheckAgain(() => follow(card, image.id));
    offerDelete(card, image.id);
    if (image.status !== "done" && image.status !== "failed") void follow(card, image.id);
  }
  nextPage = page.cursor;
  ui.loadMore.hidden = !nextPage;
}

function showSignIn(message) {
  signedIn = false;
  ui.signedIn.hidden = true;
  ui.signIn.hidden = false;
  ui.dropZone.setAttribute("aria-disabled", "true");
  ui.hint.textContent = "Sign in to upload.";
  ui.signInError.hidden = !message;
  ui.signInError.textContent = message ?? "";
}

async function signIn(token) {
  useToken(token);
  let page;
  try {
    page = await listImages();
  } catch (error) {
    useToken(undefined);
    forgetToken();
    showSignIn(
      error.status === 401 ? `That token was not accepted: ${error.message}.` : `Signing in failed. ${error.message}`,
    );
    return;
  }
  saveToken(token);
  signedIn = true;
  ui.signIn.hidden = true;
  ui.tokenInput.value = "";
  ui.signedIn.hidden = false;
  ui.signedInSub.textContent = subjectOf(token) ?? "an unnamed user";
  ui.gallery.replaceChildren();
  showListedImages(page);
  updateGalleryChrome();
  showUploadHint();
  announce(`Signed in as ${ui.signedInSub.textContent}.`);
}

function signOut() {
  forgetToken();
  useToken(undefined);
  ui.gallery.replaceChildren();
  ui.loadMore.hidden = true;
  updateGalleryChrome();
  showSignIn();
  announce("Signed out.");
}

function enterTokenMode() {
  tokenMode = true;
  ui.galleryHeading.textContent = "Your images";
  ui.galleryEmpty.textContent =
    "Images you upload appear here, with every size the pipeline makes, on any device you sign in on.";
  ui.signInForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = ui.tokenInput.value.trim();
    if (!token) return showSignIn("Paste your access token first.");
    void signIn(token);
  });
  ui.signOut.addEventListener("click", signOut);
  ui.loadMore.addEventListener("click", async () => {
    try {
      showListedImages(await listImages(nextPage));
    } catch (error) {
      announce(`Older images could not be loaded. ${error.message}`);
    }
  });
  updateGalleryChrome();
  const saved = loadToken();
  if (saved) void signIn(saved);
  else showSignIn();
}

function showUploadHint() {
  ui.dropZone.setAttribute("aria-disabled", "false");
  ui.hint.textContent = `${listOfTypes(config.acceptedTypes)}, up to ${formatBytes(config.maxUploadBytes)} each. Several at once is fine.`;
  const sizes = config.variants.map((variant) => `${variant.name} ${variant.width} px`).join(", ");
  if (sizes) ui.hint.append(document.createElement("br"), `Each image becomes: ${sizes}.`);
}

async function loadConfig() {
  try {
    config = await getConfig();
  } catch (error) {
    ui.configError.hidden = false;
    ui.configError.textContent = `The pipeline's settings could not be loaded, so uploads are off. ${error.message} Reload the page to try again.`;
    ui.hint.textContent = "Uploads are unavailable.";
    restoreGallery();
    return;
  }
  ui.input.accept = config.acceptedTypes.join(",");
  if (config.auth) return enterTokenMode();
  restoreGallery();
  showUploadHint();
}

wireInputs();
void loadConfig();
