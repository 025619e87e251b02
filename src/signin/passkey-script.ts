// The passkey pages' one script, served from this origin (the pages allow no inline script). A form
// with `data-webauthn="get"` or `"create"` carries the ceremony's options as JSON in `data-options`; its
// `[data-webauthn-start]` button runs navigator.credentials, puts the credential's JSON (the browser's
// PublicKeyCredential.toJSON() shape) in the form's `credential` field and submits the form, so the
// server answers with a page as for every other step.
import type { FastifyInstance } from 'fastify';

export const PASSKEY_SCRIPT_PATH = '/assets/passkey.js';

const SCRIPT = String.raw`(function () {
  'use strict';
  function dec(s) {
    var b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
    return out.buffer;
  }
  function enc(buf) {
    var bytes = new Uint8Array(buf), s = '';
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function creds(list) {
    return (list || []).map(function (c) { return { type: c.type, id: dec(c.id), transports: c.transports }; });
  }
  function creation(o) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(o);
    return Object.assign({}, o, { challenge: dec(o.challenge), user: Object.assign({}, o.user, { id: dec(o.user.id) }), excludeCredentials: creds(o.excludeCredentials) });
  }
  function request(o) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(o);
    return Object.assign({}, o, { challenge: dec(o.challenge), allowCredentials: creds(o.allowCredentials) });
  }
  function json(c) {
    if (typeof c.toJSON === 'function') return c.toJSON();
    var r = c.response, out = { id: c.id, rawId: enc(c.rawId), type: c.type, clientExtensionResults: c.getClientExtensionResults(), response: { clientDataJSON: enc(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = enc(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = enc(r.authenticatorData);
      out.response.signature = enc(r.signature);
      if (r.userHandle) out.response.userHandle = enc(r.userHandle);
    }
    return out;
  }
  var forms = document.querySelectorAll('form[data-webauthn]');
  Array.prototype.forEach.call(forms, function (form) {
    var button = form.querySelector('[data-webauthn-start]');
    var error = form.querySelector('[data-webauthn-error]');
    if (!button) return;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      button.disabled = true;
      if (error) error.textContent = "This browser can't use passkeys. Sign in another way.";
      return;
    }
    button.addEventListener('click', function () {
      if (error) error.textContent = '';
      button.disabled = true;
      var options = JSON.parse(form.getAttribute('data-options'));
      var create = form.getAttribute('data-webauthn') === 'create';
      var p = create ? navigator.credentials.create({ publicKey: creation(options) }) : navigator.credentials.get({ publicKey: request(options) });
      p.then(function (c) {
        form.querySelector('input[name=credential]').value = JSON.stringify(json(c));
        form.submit();
      }).catch(function (e) {
        button.disabled = false;
        if (error) error.textContent = e && e.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out. Try again.' : e && e.name === 'InvalidStateError' ? 'This passkey is already registered.' : "Your device couldn't use a passkey here. Try again, or sign in another way.";
        button.focus();
      });
    });
  });
})();
`;

export function registerPasskeyScript(app: FastifyInstance): void {
  app.get(PASSKEY_SCRIPT_PATH, (_req, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').header('x-content-type-options', 'nosniff').send(SCRIPT),
  );
}
