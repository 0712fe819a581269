// The page talks to the JSON API of FashionVision.AspNetCore: GET /models, POST /predict, POST /gradcam.
"use strict";

const state = { photoModel: null, digitModel: null };
const $ = (id) => document.getElementById(id);

function showError(message) {
  const error = $("error");
  error.textContent = message;
  error.hidden = !message;
}

async function problem(response) {
  try {
    const body = await response.json();
    return body.detail || body.title || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

async function loadModels() {
  const response = await fetch("models");
  if (!response.ok) throw new Error(await problem(response));
  const models = await response.json();
  const byStyle = (style) => models.find((m) => m.style === style);
  const fallback = models.find((m) => m.isDefault) || models[0];
  state.photoModel = byStyle("FashionMnist") || fallback;
  state.digitModel = byStyle("Mnist") || fallback;
  $("models").textContent = models
    .map((m) => `${m.name} (${m.classes.length} classes, ${m.inputShape.join("×")}, version ${m.version}${m.gradCam ? ", Grad-CAM" : ""})`)
    .join(" · ");
}

// Sends one image to /predict and shows the top classes; then asks /gradcam for the overlay when the model has one.
async function classify(blob, fileName, model, prefix) {
  showError("");
  const form = new FormData();
  form.append("image", blob, fileName);
  const response = await fetch(`predict?model=${encodeURIComponent(model.name)}&top=3`, { method: "POST", body: form });
  if (!response.ok) {
    $(`${prefix}-top1`).textContent = "—";
    $(`${prefix}-top`).replaceChildren();
    showError(await problem(response));
    return;
  }
  const prediction = (await response.json()).predictions[0];
  $(`${prefix}-top1`).textContent = prediction.className;
  $(`${prefix}-top`).replaceChildren(...prediction.top.map((c) => {
    const item = document.createElement("li");
    item.dataset.classIndex = c.classIndex;
    item.textContent = `${c.className}: ${(100 * c.probability).toFixed(1)}%`;
    return item;
  }));
  const overlay = $(`${prefix}-gradcam`);
  overlay.hidden = true;
  if (model.gradCam) {
    const cam = new FormData();
    cam.append("image", blob, fileName);
    const camResponse = await fetch(`gradcam?model=${encodeURIComponent(model.name)}`, { method: "POST", body: cam });
    if (camResponse.ok) {
      URL.revokeObjectURL(overlay.src);
      overlay.src = URL.createObjectURL(await camResponse.blob());
      overlay.hidden = false;
    }
  }
  document.body.dataset[`${prefix}Done`] = String(Number(document.body.dataset[`${prefix}Done`] || 0) + 1);
}

function setUpPhoto() {
  $("photo-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const preview = $("photo-preview");
    URL.revokeObjectURL(preview.src);
    preview.src = URL.createObjectURL(file);
    preview.hidden = false;
    await classify(file, file.name, state.photoModel, "photo");
  });
}

function setUpCanvas() {
  const canvas = $("digit-canvas");
  const context = canvas.getContext("2d");
  const clear = () => {
    context.fillStyle = "#000";
    context.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  context.strokeStyle = "#fff";
  context.lineWidth = 22;
  context.lineCap = "round";
  context.lineJoin = "round";
  let drawing = false;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * (canvas.width / box.width), (event.clientY - box.top) * (canvas.height / box.height)];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    context.beginPath();
    context.moveTo(x, y);
    context.lineTo(x, y);
    context.stroke();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = point(event);
    context.lineTo(x, y);
    context.stroke();
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  $("digit-clear").addEventListener("click", () => {
    clear();
    $("digit-top1").textContent = "—";
    $("digit-top").replaceChildren();
    $("digit-gradcam").hidden = true;
  });
  $("digit-classify").addEventListener("click", () =>
    canvas.toBlob((blob) => classify(blob, "digit.png", state.digitModel, "digit"), "image/png"));
}

setUpPhoto();
setUpCanvas();
loadModels().catch((error) => showError(`The models could not be loaded: ${error.message}`));
