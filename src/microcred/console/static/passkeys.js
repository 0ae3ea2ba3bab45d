// Passkeys in the microcred console: adding one (/console/passkeys) and signing in with one
// (/console/sign-in). Our own file, loaded with `defer`: the console's CSP runs no inline script.
//
// The server hands out WebAuthn options as JSON (binary values base64url-encoded), this script
// turns them into what navigator.credentials wants, and posts the browser's answer back as JSON
// (PublicKeyCredential.toJSON() shape), with the page's CSRF token in X-CSRF-Token. Without
// WebAuthn in the browser, the passkey controls stay hidden and email sign-in is all there is.
// The learners' pages (the backpack and its sign-in) use it too: their controls carry the same
// ids and data attributes, and data-say-* attributes with their words in the page's language
// (the English below is the console's). Errors come as {"message"} or problem+json {"detail"}.
(function () {
  "use strict";

  function fromB64url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return { type: d.type, id: fromB64url(d.id), transports: d.transports }; });
  }

  function creationOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = fromB64url(json.challenge);
    options.user = Object.assign({}, json.user, { id: fromB64url(json.user.id) });
    options.excludeCredentials = descriptors(json.excludeCredentials);
    return options;
  }

  function requestOptions(json) {
    var options = Object.assign({}, json);
    options.challenge = fromB64url(json.challenge);
    options.allowCredentials = descriptors(json.allowCredentials);
    return options;
  }

  function answer(credential) {
    if (typeof credential.toJSON === "function") { return credential.toJSON(); }
    var r = credential.response;
    var response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) { response.userHandle = toB64url(r.userHandle); }
    }
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: response
    };
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          throw new Error(data.message || data.detail || "The service did not accept this (" + response.status + "). Reload the page and try again.");
        }
        return data;
      });
    });
  }

  function say(element, text) {
    if (element) { element.textContent = text; }
  }

  // The words for ``key`` that ``holder`` carries (data-say-KEY), else the console's English.
  function words(holder, key, english) {
    return holder.getAttribute("data-say-" + key) || english;
  }

  // Open ``url``: to the same page with only another #fragment (the backpack's "/me#passkeys"),
  // assigning it would only scroll, so the page is loaded again to show the new passkey.
  function go(url) {
    var target = new URL(url, window.location.href);
    var here = window.location;
    if (target.pathname === here.pathname && target.search === here.search && target.hash) {
      here.hash = target.hash;
      here.reload();
    } else {
      here.assign(url);
    }
  }

  function cancelled(error) {
    // The person closed the browser's passkey dialog, or it timed out.
    return error && (error.name === "NotAllowedError" || error.name === "AbortError");
  }

  var supported = typeof window.PublicKeyCredential === "function" && navigator.credentials;

  // --- adding a passkey ---------------------------------------------------------------------------
  var add = document.getElementById("passkey-add");
  if (add && supported) {
    add.hidden = false;
    var addStatus = document.getElementById("passkey-add-status");
    add.addEventListener("submit", function (event) {
      event.preventDefault();
      var csrf = add.elements.namedItem("csrf_token").value;
      var name = add.elements.namedItem("name").value;
      var button = add.querySelector("button[type=submit]");
      button.disabled = true;
      say(addStatus, words(add, "creating", "Follow your browser's instructions to create the passkey…"));
      post(add.getAttribute("data-options"), csrf)
        .then(function (options) { return navigator.credentials.create({ publicKey: creationOptions(options) }); })
        .then(function (credential) { return post(add.getAttribute("action"), csrf, { name: name, credential: answer(credential) }); })
        .then(function () {
          say(addStatus, words(add, "added", "Passkey added."));
          go(add.getAttribute("data-done"));
        })
        .catch(function (error) {
          say(addStatus, cancelled(error) ? words(add, "cancelled", "No passkey was added: the browser's dialog was closed or timed out.") : error.message);
          button.disabled = false;
        });
    });
  }
  var unsupported = document.getElementById("passkey-unsupported");
  if (unsupported && !supported) { unsupported.hidden = false; }

  // --- signing in with a passkey ------------------------------------------------------------------
  var signIn = document.getElementById("passkey-sign-in");
  if (signIn && supported) {
    signIn.hidden = false;
    var signInStatus = document.getElementById("passkey-sign-in-status");
    var signInButton = signIn.querySelector("button");
    signInButton.addEventListener("click", function () {
      var csrf = signIn.getAttribute("data-csrf");
      signInButton.disabled = true;
      say(signInStatus, words(signIn, "using", "Follow your browser's instructions to use your passkey…"));
      post(signIn.getAttribute("data-options"), csrf)
        .then(function (options) { return navigator.credentials.get({ publicKey: requestOptions(options) }); })
        .then(function (credential) {
          return post(signIn.getAttribute("data-action"), csrf, { credential: answer(credential), next: signIn.getAttribute("data-next") });
        })
        .then(function (result) { window.location.assign(result.redirect); })
        .catch(function (error) {
          say(signInStatus, cancelled(error) ? words(signIn, "cancelled", "Not signed in: the browser's dialog was closed or timed out.") : error.message);
          signInButton.disabled = false;
        });
    });
  }
})();
