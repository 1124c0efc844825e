// The chat widget: a launcher button and a dialog panel holding the conversation.

import { Connection } from './connection.js';
import { el, srOnly } from './dom.js';
import { postFeedback } from './feedback.js';
import { normalizeBotMessage, normalizeDraft } from './messages.js';
import { renderEntry } from './render.js';
import { ConversationStore, newId } from './storage.js';
import { TEXT } from './text.js';

const MAX_MESSAGE = 5000;

export class ChatWidget {
  constructor(config) {
    this.config = config;
    this.store = new ConversationStore(config.storagePrefix);
    this.lastQuestion = '';
    this.replyTimer = null;
    this.draft = null; // the bubble of the answer being written: { turn, node, text, count }
    this.build();
    this.connection = new Connection(config, this.store, {
      onStatus: (status) => this.setStatus(status),
      onBotMessage: (data) => this.receive(data),
      onDraft: (data) => this.showDraft(data),
    });
    this.renderAll();
    if (this.store.isOpen) this.open(false);
    else if (this.store.entries.length) this.connection.start();
  }

  build() {
    const launcher = el('button', {
      className: 'vg-launcher',
      attrs: { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'vg-chat-panel' },
    }, [el('span', { className: 'vg-launcher-icon', text: '💬', attrs: { 'aria-hidden': 'true' } }), el('span', { text: TEXT.launcher })]);
    launcher.addEventListener('click', () => (this.panel.hidden ? this.open(true) : this.close()));

    const title = el('h2', { className: 'vg-title', text: TEXT.title, attrs: { id: 'vg-chat-title' } });
    const restart = el('button', { className: 'vg-icon-button', text: '↺', attrs: { type: 'button', 'aria-label': TEXT.restart, title: TEXT.restart } });
    restart.addEventListener('click', () => this.restart());
    const close = el('button', { className: 'vg-icon-button', text: '✕', attrs: { type: 'button', 'aria-label': TEXT.close, title: TEXT.close } });
    close.addEventListener('click', () => this.close());
    const header = el('div', { className: 'vg-header' }, [
      el('div', {}, [title, el('p', { className: 'vg-subtitle', text: TEXT.subtitle })]),
      el('div', { className: 'vg-header-actions' }, [restart, close]),
    ]);

    this.status = el('p', { className: 'vg-status', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.log = el('ol', { className: 'vg-log', attrs: { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-label': 'Conversation' } });
    this.typing = el('div', { className: 'vg-typing', attrs: { hidden: 'hidden', 'aria-hidden': 'true' } }, [
      el('span', { className: 'vg-dot' }), el('span', { className: 'vg-dot' }), el('span', { className: 'vg-dot' }), srOnly(TEXT.typing),
    ]);
    this.typingAnnounce = el('p', { className: 'vg-sr', attrs: { role: 'status' } });
    this.scroller = el('div', { className: 'vg-scroller' }, [this.log, this.typing]);

    const advisor = el('button', { className: 'vg-advisor', text: TEXT.advisor, attrs: { type: 'button' } });
    advisor.addEventListener('click', () => this.sendText(TEXT.advisorMessage));

    this.input = el('textarea', { className: 'vg-input', attrs: { id: 'vg-chat-input', rows: 1, placeholder: TEXT.placeholder, maxlength: MAX_MESSAGE, autocomplete: 'off' } });
    this.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.formError = el('p', { className: 'vg-form-error', attrs: { role: 'alert' } });
    const send = el('button', { className: 'vg-send', text: TEXT.send, attrs: { type: 'submit' } });
    const form = el('form', { className: 'vg-form' }, [
      el('label', { className: 'vg-sr', text: TEXT.inputLabel, attrs: { for: 'vg-chat-input' } }),
      this.input,
      send,
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });

    this.panel = el('section', {
      className: 'vg-panel',
      attrs: { id: 'vg-chat-panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'vg-chat-title', hidden: 'hidden' },
    }, [header, this.status, this.scroller, this.typingAnnounce, el('div', { className: 'vg-footer' }, [advisor, this.formError, form])]);
    this.panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        this.close();
      }
    });

    this.launcher = launcher;
    this.root = el('div', { className: 'vg-chat', attrs: { lang: 'fr' } }, [this.panel, launcher]);
    document.body.appendChild(this.root);
    document.querySelectorAll('[data-open-chat]').forEach((button) => {
      button.addEventListener('click', () => this.open(true));
    });
  }

  open(focus) {
    this.panel.hidden = false;
    this.launcher.setAttribute('aria-expanded', 'true');
    this.root.classList.add('vg-open');
    this.store.isOpen = true;
    this.connection.start();
    this.scrollToEnd();
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute('aria-expanded', 'false');
    this.root.classList.remove('vg-open');
    this.store.isOpen = false;
    this.launcher.focus();
  }

  restart() {
    if (this.store.entries.length && !window.confirm(TEXT.restartConfirm)) return;
    this.clearDraft();
    this.store.reset();
    this.hideTyping();
    this.renderAll();
    this.connection.restart();
    this.input.focus();
  }

  setStatus(status) {
    const messages = { connecting: TEXT.connecting, online: '', reconnected: TEXT.reconnected, offline: TEXT.offline };
    this.status.textContent = messages[status] || '';
    this.root.dataset.connection = status;
    if (status === 'reconnected') {
      window.setTimeout(() => {
        if (this.root.dataset.connection === 'reconnected') this.status.textContent = '';
      }, 4000);
    }
  }

  renderAll() {
    this.log.replaceChildren();
    if (!this.store.entries.length) {
      this.log.appendChild(renderEntry({ id: 'welcome', role: 'bot', text: TEXT.welcome, buttons: [], custom: null }, this.renderOptions()));
    }
    for (const entry of this.store.entries) this.log.appendChild(renderEntry(entry, this.renderOptions()));
  }

  renderOptions() {
    return {
      documentsUrl: this.config.documentsUrl,
      onQuickReply: (entry, button, group) => {
        group.querySelectorAll('button').forEach((node) => { node.disabled = true; });
        this.store.update(entry.id, { answered: true });
        this.sendText(button.title, button.payload);
      },
      onRate: (entry, value, ui) => this.rate(entry, value, ui),
    };
  }

  append(entry) {
    const node = renderEntry(entry, this.renderOptions());
    this.log.appendChild(node);
    this.scrollToEnd();
    return node;
  }

  submit() {
    const text = this.input.value.trim();
    if (!text) return;
    if (text.length > MAX_MESSAGE) {
      this.formError.textContent = TEXT.tooLong(MAX_MESSAGE);
      return;
    }
    this.formError.textContent = '';
    this.input.value = '';
    this.sendText(text);
    this.input.focus();
  }

  sendText(text, payload) {
    if (this.panel.hidden) this.open(false);
    // Earlier suggestions no longer apply once the visitor has said something.
    this.log.querySelectorAll('.vg-quick-reply').forEach((node) => { node.disabled = true; });
    this.store.entries.filter((e) => e.buttons && e.buttons.length && !e.answered).forEach((e) => this.store.update(e.id, { answered: true }));
    const entry = this.store.add({ id: newId(), role: 'user', text, pending: true, at: Date.now() });
    const node = this.append(entry);
    this.lastQuestion = text;
    this.connection.send(payload || text, () => {
      this.store.update(entry.id, { pending: false });
      node.classList.remove('vg-pending');
      const note = node.querySelector('.vg-pending-note');
      if (note) note.remove();
      this.showTyping();
    });
  }

  // An answer being written arrives sentence by sentence, each checked by the server; the
  // final message replaces them (it may differ: a rejected answer falls back to the documents'
  // own sentence). Drafts are never stored: a reload shows the final message only.
  showDraft(data) {
    const draft = normalizeDraft(data);
    if (!draft || this.typing.hidden) return; // no reply awaited: a late draft
    if (!this.draft || this.draft.turn !== draft.turn) {
      this.clearDraft();
      const text = el('p', { className: 'vg-text' });
      const node = el('li', { className: 'vg-msg vg-bot vg-draft', attrs: { 'aria-busy': 'true', 'data-turn': draft.turn } }, [
        srOnly(`${TEXT.bot} : `), text, el('p', { className: 'vg-mode', text: TEXT.drafting }),
      ]);
      this.draft = { turn: draft.turn, node, text, count: 0 };
      this.log.appendChild(node);
    }
    if (draft.index < this.draft.count) return; // a repeat
    this.draft.text.textContent = `${this.draft.text.textContent} ${draft.text}`.trim();
    this.draft.count = draft.index + 1;
    this.scrollToEnd();
  }

  clearDraft() {
    if (this.draft) this.draft.node.remove();
    this.draft = null;
  }

  receive(data) {
    this.clearDraft();
    const entry = normalizeBotMessage(data, this.lastQuestion || this.previousUserText());
    if (!entry.text && !entry.custom && !entry.buttons.length) return;
    this.store.add(entry);
    this.append(entry);
    this.hideTyping();
  }

  previousUserText() {
    for (let i = this.store.entries.length - 1; i >= 0; i -= 1) {
      if (this.store.entries[i].role === 'user') return this.store.entries[i].text;
    }
    return '';
  }

  showTyping() {
    this.typing.hidden = false;
    this.typingAnnounce.textContent = TEXT.typing;
    this.scrollToEnd();
    window.clearTimeout(this.replyTimer);
    this.replyTimer = window.setTimeout(() => {
      this.clearDraft();
      this.hideTyping();
      this.status.textContent = TEXT.noReply;
    }, this.config.replyTimeoutMs);
  }

  hideTyping() {
    window.clearTimeout(this.replyTimer);
    this.typing.hidden = true;
    this.typingAnnounce.textContent = '';
    if (this.status.textContent === TEXT.noReply) this.status.textContent = '';
  }

  async rate(entry, value, ui) {
    ui.buttons.forEach((button) => button.setAttribute('aria-pressed', String(Number(button.dataset.rating) === value)));
    ui.status.textContent = TEXT.feedbackSaving;
    try {
      await postFeedback(this.config.feedbackUrl, this.store.sessionId, entry, value);
      this.store.update(entry.id, { rating: value });
      entry.rating = value;
      ui.status.textContent = TEXT.feedbackThanks;
    } catch (error) {
      ui.buttons.forEach((button) => button.setAttribute('aria-pressed', String(Number(button.dataset.rating) === entry.rating)));
      ui.status.textContent = TEXT.feedbackFailed;
    }
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}
