// The conversation kept in the visitor's own browser: the Rasa session id and the transcript, so a
// reload or a reconnection shows the same conversation. Nothing is sent anywhere from here.

const MAX_ENTRIES = 300;

function newId() {
  if (window.crypto && typeof window.crypto.randomUUID === 'function') {
    return window.crypto.randomUUID().replace(/-/g, '');
  }
  let id = '';
  for (let i = 0; i < 32; i += 1) id += Math.floor(Math.random() * 16).toString(16);
  return id;
}

function safeGet(store, key) {
  try {
    return store.getItem(key);
  } catch (error) {
    return null; // storage disabled (private mode, policy): the widget still works, unsaved
  }
}

function safeSet(store, key, value) {
  try {
    store.setItem(key, value);
  } catch (error) {
    // quota exceeded or storage disabled: keep going without persistence
  }
}

export class ConversationStore {
  constructor(prefix) {
    this.prefix = prefix;
    this.entries = [];
    this.sessionId = safeGet(window.localStorage, `${prefix}:session`);
    if (!this.sessionId || !/^[A-Za-z0-9_-]{8,64}$/.test(this.sessionId)) this.reset();
    else this.entries = this.loadEntries();
  }

  key() {
    return `${this.prefix}:transcript:${this.sessionId}`;
  }

  loadEntries() {
    try {
      const parsed = JSON.parse(safeGet(window.localStorage, this.key()) || '[]');
      return Array.isArray(parsed) ? parsed.filter((e) => e && typeof e === 'object') : [];
    } catch (error) {
      return [];
    }
  }

  save() {
    if (this.entries.length > MAX_ENTRIES) this.entries = this.entries.slice(-MAX_ENTRIES);
    safeSet(window.localStorage, this.key(), JSON.stringify(this.entries));
  }

  add(entry) {
    this.entries.push(entry);
    this.save();
    return entry;
  }

  update(id, changes) {
    const entry = this.entries.find((e) => e.id === id);
    if (entry) {
      Object.assign(entry, changes);
      this.save();
    }
    return entry;
  }

  setSessionId(id) {
    if (id === this.sessionId) return;
    this.sessionId = id;
    safeSet(window.localStorage, `${this.prefix}:session`, id);
    this.save();
  }

  reset() {
    try {
      if (this.sessionId) window.localStorage.removeItem(this.key());
    } catch (error) {
      // nothing to remove
    }
    this.sessionId = newId();
    this.entries = [];
    safeSet(window.localStorage, `${this.prefix}:session`, this.sessionId);
  }

  get isOpen() {
    return safeGet(window.sessionStorage, `${this.prefix}:open`) === '1';
  }

  set isOpen(value) {
    safeSet(window.sessionStorage, `${this.prefix}:open`, value ? '1' : '0');
  }
}

export { newId };
