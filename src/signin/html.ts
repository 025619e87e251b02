// Server-rendered pages that work without JavaScript, styled after Entra's sign-in box.
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font-family:"Segoe UI",system-ui,sans-serif;background:#f2f2f2;margin:0;color:#1b1b1b}
.card{background:#fff;max-width:440px;margin:8vh auto;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
.brand{font-weight:600;color:#605e5c;margin-bottom:16px}h1{font-size:24px;font-weight:600;margin:0 0 12px}
input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;border:0;border-bottom:1px solid #666;padding:6px 0;font-size:15px;margin:8px 0 16px}
button{background:#0067b8;color:#fff;border:0;padding:8px 24px;font-size:15px;min-width:108px;cursor:pointer;margin:8px 8px 0 0}
button.secondary,#idBtn_Back{background:#ccc;color:#000}.error{color:#e81123}.small{font-size:13px;color:#605e5c}
.identity{margin-bottom:12px;font-size:15px}label{display:block;font-size:13px;color:#605e5c;margin-top:8px}
label.check{display:flex;gap:8px;align-items:center;color:#1b1b1b;font-size:14px;margin:0 0 8px}
button.link{background:none;color:#0067b8;padding:4px 0;min-width:0;margin:4px 0;text-align:left}button.link:hover{text-decoration:underline}
form.inline{margin:0}.other{margin-top:16px;border-top:1px solid #eee;padding-top:8px}
input:focus-visible,button:focus-visible{outline:2px solid #0067b8;outline-offset:2px}
.card.wide{max-width:640px}table#methods{width:100%;margin:12px 0}table#methods td{word-break:normal}th{text-align:left;font-size:13px;color:#605e5c;padding:4px 8px}select{font-size:15px;padding:4px;margin:4px 8px 8px 0}h2{font-size:18px;margin:20px 0 8px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (max-width:520px){.card{margin:0;padding:24px;box-shadow:none;min-height:100vh;box-sizing:border-box}}table{border-collapse:collapse;font-size:13px}td{border-top:1px solid #ddd;padding:4px 8px;vertical-align:top;word-break:break-all}`;

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`;
}
