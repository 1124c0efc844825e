// Turns what the Rasa socket.io channel sends into plain, validated entries. Only strings, numbers
// and known shapes survive: whatever else a message holds is dropped, never interpreted.
// The payloads and their fields are the chat message contract of the actions
// (actions/messages.py, documented in docs/conversation.md, "Chat messages").

import { newId } from './storage.js';

// The `type` of each `custom` payload.
export const PAYLOAD = Object.freeze({
  ANSWER: 'answer',
  RECOMMENDATIONS: 'recommendations',
  CATEGORIES: 'categories',
});

const MAX_TEXT = 20000;

function str(value, max = MAX_TEXT) {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return typeof value === 'string' ? value.slice(0, max) : '';
}

function list(value, max = 50) {
  return Array.isArray(value) ? value.slice(0, max) : [];
}

function page(value) {
  const number = Number(value);
  return Number.isInteger(number) && number >= 1 && number <= 100000 ? number : null;
}

export function normalizeSource(source) {
  if (!source || typeof source !== 'object') return null;
  const document = str(source.document, 300);
  if (!document) return null;
  const score = Number(source.score);
  return {
    document,
    page: page(source.page),
    passage: str(source.passage, 5000),
    score: Number.isFinite(score) ? score : null,
  };
}

function sources(value) {
  return list(value).map(normalizeSource).filter(Boolean);
}

function buttons(value) {
  return list(value, 12)
    .map((button) => ({ title: str(button && button.title, 200), payload: str(button && button.payload, 2000) }))
    .filter((button) => button.title && button.payload);
}

function custom(value) {
  if (!value || typeof value !== 'object') return null;
  const type = str(value.type, 40);
  if (type === PAYLOAD.ANSWER) {
    return {
      type,
      text: str(value.text),
      sources: sources(value.sources),
      mode: str(value.mode, 40) || null,
      validated: typeof value.validated === 'boolean' ? value.validated : null,
    };
  }
  if (type === PAYLOAD.RECOMMENDATIONS) {
    return {
      type,
      items: list(value.items, 10)
        .filter((item) => item && typeof item === 'object')
        .map((item) => ({
          code: str(item.code, 40),
          name: str(item.name, 200),
          category: str(item.category, 60),
          reasons: list(item.reasons, 20).map((r) => str(r, 1000)).filter(Boolean),
          warnings: list(item.warnings, 20).map((w) => str(w, 1000)).filter(Boolean),
          sources: sources(item.sources),
        }))
        .filter((item) => item.name),
    };
  }
  if (type === PAYLOAD.CATEGORIES) {
    return {
      type,
      items: list(value.items, 30)
        .filter((item) => item && typeof item === 'object')
        .map((item) => ({ code: str(item.code, 40), label: str(item.label, 200), description: str(item.description, 1000) }))
        .filter((item) => item.label),
    };
  }
  return null;
}

// `data` is one bot_uttered event: our channel sends {id, text, buttons, custom}; Rasa's stock
// channel sends {text}, {text, quick_replies} or the custom payload itself.
export function normalizeBotMessage(data, question) {
  const raw = data && typeof data === 'object' ? data : { text: str(data) };
  const payload = custom(raw.custom) || custom(raw.data) || custom(raw);
  return {
    id: str(raw.id, 100) || newId(),
    role: 'bot',
    text: str(raw.text),
    buttons: buttons(raw.buttons || raw.quick_replies),
    custom: payload,
    question: str(question, 10000),
    rating: null,
    at: Date.now(),
  };
}

// The words of a recommendations message that its cards do not show. The message's text is written
// for messaging apps: an introduction, one paragraph per product ("1. Name (Category)…"), then
// notes (why an advisor is needed, what would refine the choice, that this is no offer). The
// cards replace the products' paragraphs; `before` and `after` are the paragraphs around them. A
// text that lists none of the products is kept whole in `before`.
export function aroundCards(text, items) {
  const names = items.map((item) => item.name).filter(Boolean);
  const paragraphs = (text || '').split(/\n[ \t]*\n/).map((p) => p.trim()).filter(Boolean);
  const isCard = (paragraph) => {
    const first = paragraph.split('\n', 1)[0].replace(/^(\d+[.)]|[•*-])\s*/, '');
    return names.some((name) => first.startsWith(name));
  };
  const cards = paragraphs.map(isCard);
  const first = cards.indexOf(true);
  if (first < 0) return { before: paragraphs, after: [] };
  return {
    before: paragraphs.slice(0, first),
    after: paragraphs.slice(first).filter((paragraph, index) => !cards[first + index]),
  };
}

export function isRateable(entry) {
  const type = entry.custom && entry.custom.type;
  return type === PAYLOAD.ANSWER || type === PAYLOAD.RECOMMENDATIONS;
}

// A sentence of an answer being written (the `answer_draft` event), or null.
export function normalizeDraft(data) {
  if (!data || typeof data !== 'object') return null;
  const turn = str(data.turn, 200);
  const text = str(data.text, 2000).trim();
  const index = Number(data.index);
  if (!text || !Number.isInteger(index) || index < 0 || index >= 1000) return null;
  return { turn, index, text };
}
