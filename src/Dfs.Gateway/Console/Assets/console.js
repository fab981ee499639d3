// The Dfs web console's script. Served by the gateway at /console/assets/console.js; the pages work without it
// except for uploads, the live refresh of the cluster page and the confirmation before a drain or a revocation.
"use strict";
(() => {
  const csrf = document.querySelector('meta[name="dfs-csrf"]')?.content || '';
  const flashKey = 'dfs-console-flash';

  function message(text, kind) {
    const box = document.getElementById('message');
    if (!box) return;
    box.textContent = text || '';
    box.className = 'message' + (kind ? ' ' + kind : '');
    box.hidden = !text;
  }

  // A message carried over a reload (after an upload).
  const flash = sessionStorage.getItem(flashKey);
  if (flash) {
    sessionStorage.removeItem(flashKey);
    try { const { text, kind } = JSON.parse(flash); message(text, kind); } catch { /* an old format: drop it */ }
  }

  // Forms that ask first (Drain, Revoke). Delegated: the cluster's rows are replaced by the live refresh.
  document.addEventListener('submit', event => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // The cluster page: the content again every few seconds, while the page is visible.
  const live = document.getElementById('cluster-content');
  if (live) {
    const updated = document.getElementById('cluster-updated');
    const stamp = () => { if (updated) updated.textContent = 'updated ' + new Date().toLocaleTimeString(); };
    let failed = false;
    const refresh = async () => {
      if (!document.hidden) {
        try {
          const response = await fetch(live.dataset.refresh, { cache: 'no-store', credentials: 'same-origin', headers: { 'Accept': 'text/html' } });
          // The session ended: the reload goes to the sign-in page.
          if (response.redirected || response.status === 401) { location.reload(); return; }
          if (!response.ok) throw new Error(response.status + ' ' + response.statusText);
          live.innerHTML = await response.text();
          stamp();
          if (failed) { failed = false; message(''); }
        } catch (e) {
          failed = true;
          message('Could not refresh: ' + e.message, 'error');
        }
      }
      setTimeout(refresh, 5000);
    };
    stamp();
    setTimeout(refresh, 5000);
  }

  // The file browser: each chosen file is the body of its own request, so the browser streams it from disk.
  const uploadButton = document.getElementById('upload-button');
  if (uploadButton) {
    const folder = document.getElementById('folder').dataset.path;
    const target = document.getElementById('upload').dataset.target;
    const status = document.getElementById('upload-status');
    const join = name => (folder === '/' ? '' : folder) + '/' + name;
    uploadButton.addEventListener('click', async () => {
      const files = [...document.getElementById('upload-file').files];
      if (files.length === 0) { message('Choose one or more files first.', 'error'); return; }
      const conflict = document.getElementById('upload-overwrite').checked ? 'overwrite' : 'fail';
      uploadButton.disabled = true;
      let done = 0;
      try {
        for (const file of files) {
          status.textContent = 'Uploading ' + file.name + ' (' + (done + 1) + ' of ' + files.length + ')…';
          const response = await fetch(target + '?path=' + encodeURIComponent(join(file.name)) + '&conflict=' + conflict, {
            method: 'POST', body: file, cache: 'no-store', credentials: 'same-origin',
            headers: { 'Content-Type': 'application/octet-stream', 'Accept': 'application/json', 'X-Dfs-Csrf': csrf }
          });
          if (response.status === 401) { location.reload(); return; }
          const data = (response.headers.get('content-type') || '').includes('json') ? await response.json() : null;
          if (!response.ok) throw new Error((data && (data.detail || data.title)) || (response.status + ' ' + response.statusText));
          done++;
        }
        sessionStorage.setItem(flashKey, JSON.stringify({ text: 'Uploaded ' + files.map(f => f.name).join(', ') + '.', kind: 'ok' }));
        location.reload();
      } catch (e) {
        status.textContent = '';
        message('Upload failed' + (files.length > 1 ? ' after ' + done + ' of ' + files.length + ' files' : '') + ': ' + e.message, 'error');
        uploadButton.disabled = false;
      }
    });
  }
})();
