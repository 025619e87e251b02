// Fluent's modal dialogs hide the rest of the page from assistive technology while they are open
// (aria-hidden on the page's root and on the body's other children) and give it back shortly after they
// close; a dialog unmounted before then, or whose opener is gone, leaves the whole portal hidden from screen
// readers. While no dialog is in the page, nothing of it may stay hidden.
const DIALOG = '[role="dialog"], [role="alertdialog"]';

function giveBack(): void {
  if (document.querySelector(DIALOG)) return;
  for (const el of document.body.children) if (el.getAttribute('aria-hidden') === 'true' && el.tagName !== 'SCRIPT') el.removeAttribute('aria-hidden');
}

export function keepPageVisibleWithoutDialogs(): void {
  new MutationObserver(giveBack).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-hidden'] });
}
