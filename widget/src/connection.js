// The socket.io link to Rasa's socketio channel. The session id is sent on every (re)connection,
// so the server puts the socket back in the conversation's room; messages typed while offline wait
// in a queue and leave, in order, once the server has confirmed the session.

import { io } from 'socket.io-client';

export class Connection {
  constructor(config, store, handlers) {
    this.store = store;
    this.handlers = handlers;
    this.confirmed = false;
    this.queue = [];
    this.everConnected = false;
    this.retries = 0;
    this.retryTimer = null;
    this.socket = io(config.socketUrl, {
      path: config.socketPath,
      transports: ['websocket'],
      autoConnect: false,
      reconnection: true,
      reconnectionDelay: 300,
      reconnectionDelayMax: 4000,
      timeout: 10000,
    });
    this.socket.on('connect', () => {
      this.socket.emit('session_request', { session_id: this.store.sessionId });
    });
    this.socket.on('session_confirm', (sessionId) => {
      if (typeof sessionId === 'string' && /^[A-Za-z0-9_-]{8,64}$/.test(sessionId)) {
        this.store.setSessionId(sessionId);
      }
      const wasReconnect = this.everConnected;
      this.confirmed = true;
      this.everConnected = true;
      this.retries = 0;
      this.handlers.onStatus(wasReconnect ? 'reconnected' : 'online');
      this.flush();
    });
    this.socket.on('disconnect', (reason) => {
      this.confirmed = false;
      this.handlers.onStatus('offline', reason);
      if (reason === 'io server disconnect') this.socket.connect(); // the server dropped us: retry
    });
    this.socket.on('connect_error', () => {
      this.handlers.onStatus('offline');
      // socket.io retries a lost transport by itself, but not a connection the server refused
      // (restarting, overloaded): retry that one here, backing off up to 30 s.
      if (!this.socket.active) this.retryLater();
    });
    this.socket.on('bot_uttered', (data) => this.handlers.onBotMessage(data));
    // Checked sentences of an answer still being written (common/drafts.py on the server).
    this.socket.on('answer_draft', (data) => this.handlers.onDraft(data));
  }

  retryLater() {
    window.clearTimeout(this.retryTimer);
    const delay = Math.min(30000, 500 * 2 ** this.retries);
    this.retries += 1;
    this.retryTimer = window.setTimeout(() => {
      if (!this.socket.connected) this.socket.connect();
    }, delay);
  }

  start() {
    if (!this.socket.connected && !this.socket.active) {
      this.handlers.onStatus('connecting');
      this.socket.connect();
    }
  }

  send(message, onSent) {
    this.queue.push({ message, onSent });
    this.flush();
  }

  flush() {
    while (this.confirmed && this.socket.connected && this.queue.length) {
      const { message, onSent } = this.queue.shift();
      this.socket.emit('user_uttered', { message, session_id: this.store.sessionId });
      if (onSent) onSent();
    }
  }

  restart() {
    this.confirmed = false;
    this.queue = [];
    this.socket.disconnect();
    this.everConnected = false;
    this.socket.connect();
  }

  get pending() {
    return this.queue.length;
  }
}
