/* Meetings — the door page. Sends the door's forms with fetch and shows the server's answer in place;
   a request lost on the network is sent again with the same nonce, so it is never counted twice;
   scans the membership card's QR code with the camera (BarcodeDetector, polyfilled by the vendored
   barcode-detector). Without JavaScript every form still works as a plain form. No inline script (CSP). */
(function () {
  "use strict";
  var door = document.querySelector("[data-door]");
  if (!door) { return; }
  var script = document.currentScript;
  var answer = document.getElementById("door-answer");
  var status = door.querySelector("[data-door-status]");
  var mainForm = door.querySelector("[data-door-main]");
  var numberInput = document.getElementById("member_number");
  var text = door.dataset;

  function newNonce() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function say(message) {
    status.textContent = message || "";
    status.hidden = !message;
  }

  function wait(ms) { return new Promise(function (resolve) { window.setTimeout(resolve, ms); }); }

  async function post(url, body) {
    var delays = [0, 700, 2000, 4000];
    for (var attempt = 0; attempt < delays.length; attempt += 1) {
      if (delays[attempt]) {
        say(text.msgRetry);
        await wait(delays[attempt]);
      }
      try {
        var response = await fetch(url, {
          method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" }
        });
        var data = null;
        try { data = await response.json(); } catch (ignored) { data = null; }
        say("");
        return { status: response.status, data: data };
      } catch (networkError) {
        /* Same body, same nonce: the server answers a retry exactly as it answered the first time. */
      }
    }
    say(text.msgOffline);
    return null;
  }

  function resetMain() {
    mainForm.querySelector("[data-method]").value = "number";
    mainForm.querySelector("[data-card]").value = "";
    numberInput.value = "";
    numberInput.focus();
  }

  door.addEventListener("submit", async function (event) {
    var form = event.target;
    if (!form.matches("[data-door-form]")) { return; }
    event.preventDefault();
    if (form.dataset.busy) { return; }
    form.dataset.busy = "1";
    var submitter = event.submitter;
    var url = (submitter && submitter.getAttribute("formaction")) || form.getAttribute("action");
    var body = new FormData(form);
    if (!body.get("csrf_token")) {  /* forms from an answer fragment use the page's token */
      body.set("csrf_token", mainForm.querySelector("[name=csrf_token]").value);
    }
    var result = await post(url, body);
    delete form.dataset.busy;
    if (!result) { return; }
    if (result.status === 401) { window.location.reload(); return; }
    form.querySelectorAll("[data-nonce]").forEach(function (field) { field.value = newNonce(); });
    if (result.data && result.data.html) {
      answer.innerHTML = result.data.html;
    } else if (result.data && result.data.message) {
      say(result.data.message);
    } else {
      say(text.msgFailed);
    }
    if (form === mainForm || form.closest(".lp-door-candidates")) { resetMain(); }
  });

  /* --- QR code on the membership card ------------------------------------------------------------ */
  var scan = door.querySelector("[data-scan]");
  var video = door.querySelector("[data-scan-video]");
  var startButton = door.querySelector("[data-scan-start]");
  var stopButton = door.querySelector("[data-scan-stop]");
  var scanStatus = door.querySelector("[data-scan-status]");
  var stream = null;
  var timer = null;

  if (window.BarcodeDetectionAPI && window.BarcodeDetectionAPI.setZXingModuleOverrides && script) {
    var wasm = script.dataset.wasm;
    window.BarcodeDetectionAPI.setZXingModuleOverrides({
      locateFile: function (path, prefix) { return path.endsWith(".wasm") ? wasm : prefix + path; }
    });
  }
  var canScan = "BarcodeDetector" in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (!canScan) { return; }
  scan.hidden = false;

  function stop() {
    if (timer) { window.clearTimeout(timer); timer = null; }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    video.hidden = true;
    stopButton.hidden = true;
    startButton.hidden = false;
  }

  async function start() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (refused) {
      scanStatus.textContent = text.msgNoCamera;
      return;
    }
    video.srcObject = stream;
    video.hidden = false;
    startButton.hidden = true;
    stopButton.hidden = false;
    scanStatus.textContent = text.msgScanning;
    await video.play();
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    var look = async function () {
      if (!stream) { return; }
      try {
        var codes = await detector.detect(video);
        var card = codes.map(function (code) { return code.rawValue || ""; })
          .find(function (value) { return value.indexOf("LP1:") === 0; });
        if (card) {
          stop();
          scanStatus.textContent = "";
          mainForm.querySelector("[data-method]").value = "qr";
          mainForm.querySelector("[data-card]").value = card;
          mainForm.requestSubmit();
          return;
        }
        if (codes.length) { scanStatus.textContent = text.msgNotACard; }
      } catch (notReady) { /* the video has no frame yet */ }
      timer = window.setTimeout(look, 250);
    };
    look();
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", stop);
  window.addEventListener("pagehide", stop);
}());
