// Small shared components: the building blocks screens are made of.
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import { signal } from '@preact/signals';
import { t } from './locale/i18n.js';

/** Spinner is a loading indicator with a text for screen readers. */
export function Spinner({ text }) {
  return html`<div class="loading" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>${text || t('common.loading')}</div>`;
}

/** ErrorBox shows an API error (or any Error) as an alert. */
export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="alert" role="alert">${error.message || String(error)}</div>`;
}

/** Empty is an empty state: what is missing and what to do about it. */
export function Empty({ title, hint, children }) {
  return html`<div class="empty"><p class="empty-title">${title}</p>${hint && html`<p class="muted">${hint}</p>`}${children}</div>`;
}

/**
 * Modal is a dialog over the page: its first field takes the focus, and
 * Escape (wherever the focus is), the close button or a click outside ends
 * it; the focus then returns where it was.
 */
export function Modal({ title, onClose, children }) {
  const box = useRef(null);
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    const before = document.activeElement;
    box.current?.querySelector('input, select, textarea, button:not(.icon)')?.focus();
    const onKey = (e) => e.key === 'Escape' && close.current();
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      if (before && before.isConnected) before.focus();
    };
  }, []);
  return html`<div class="modal-back" onClick=${(e) => e.target === e.currentTarget && onClose()}>
    <div class="modal" role="dialog" aria-modal="true" aria-label=${title} ref=${box}>
      <header class="modal-head"><h2>${title}</h2>
        <button type="button" class="icon" aria-label=${t('common.close')} onClick=${onClose}>×</button></header>
      ${children}
    </div></div>`;
}

/** toasts are the short messages shown at the bottom of the screen. */
export const toasts = signal([]);
let toastSeq = 0;

/** toast shows a message for a few seconds; kind is 'info' or 'error'. */
export function toast(message, kind = 'info') {
  const id = ++toastSeq;
  toasts.value = [...toasts.value, { id, message, kind }];
  setTimeout(() => (toasts.value = toasts.value.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 4000);
}

export function Toasts() {
  return html`<div class="toasts" aria-live="polite">
    ${toasts.value.map((x) => html`<div class=${'toast ' + x.kind} role=${x.kind === 'error' ? 'alert' : 'status'} dir="auto">${x.message}</div>`)}
  </div>`;
}
