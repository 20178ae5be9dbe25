/**
 * Waking idle daemons across nodes with PostgreSQL's LISTEN/NOTIFY. A store that made work due
 * (a run enqueued, woken or answered; an event appended) sends a notification on its schema's
 * channel after the write committed; every daemon on the schema listens on one connection of
 * its own and claims at once instead of at its next poll. Notifications are only a hint: a
 * lost one (a daemon that died between its commit and its NOTIFY, a listener reconnecting)
 * costs at most one poll interval, which is why the daemons keep polling.
 *
 * Sending is coalesced: at most one NOTIFY per topic is in flight, and calls made meanwhile
 * are covered by one more, so a burst of intake costs a few notifications, not one per row.
 */
import pg from 'pg';
import type { StoreTopic } from '../store.js';
import type { StoreUrl } from './url.js';

/** The channel of a schema: a plain identifier within PostgreSQL's 63 bytes (a longer name is cut; a shared prefix costs only spurious wakes). */
export function channelOf(schema: string): string {
  return `flux_${schema}`.slice(0, 63);
}

/** Delay before the listener connects again after losing its connection, doubling up to the cap. */
const RECONNECT_MS = 500;
const RECONNECT_MAX_MS = 10_000;

/** Sends the store's notifications, coalesced per topic. */
export class NotifySender {
  private readonly inFlight = new Set<StoreTopic>();
  private readonly again = new Set<StoreTopic>();

  constructor(private readonly pool: pg.Pool, private readonly channel: string) {}

  /** Tells every listener that work of `topic` may be due; never rejects (a hint, not a write). */
  notify(topic: StoreTopic): void {
    if (this.inFlight.has(topic)) {
      this.again.add(topic);
      return;
    }
    this.inFlight.add(topic);
    void this.pool.query('SELECT pg_notify($1, $2)', [this.channel, topic]).catch(() => undefined).finally(() => {
      this.inFlight.delete(topic);
      if (this.again.delete(topic)) this.notify(topic);
    });
  }
}

/**
 * Listens on the channel with a connection of its own, calling `onTopic` for each notification,
 * and for every topic after (re)connecting, since notifications sent while it was away are lost.
 */
export class NotifyListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private retryMs = RECONNECT_MS;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly url: StoreUrl, private readonly channel: string, private readonly onTopic: (topic: StoreTopic) => void) {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.url.connectionString, application_name: 'flux listener', connectionTimeoutMillis: 10_000 });
    this.client = client;
    let failed = false;
    const lost = (): void => {
      if (failed) return;
      failed = true;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.connect(), this.retryMs);
      this.timer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    };
    client.on('error', lost);
    client.on('end', lost);
    client.on('notification', (message) => {
      if (message.payload === 'runs' || message.payload === 'events') this.onTopic(message.payload);
    });
    try {
      await client.connect();
      // The channel is an identifier: quoted by the server's own rules, not spliced in by hand.
      const quoted = (await client.query<{ q: string }>('SELECT quote_ident($1) AS q', [this.channel])).rows[0]!.q;
      await client.query(`LISTEN ${quoted}`);
      if (this.stopped) return void (await client.end().catch(() => undefined));
      this.retryMs = RECONNECT_MS;
      // Whatever was notified while no connection listened: look now.
      this.onTopic('runs');
      this.onTopic('events');
    } catch {
      lost();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners('notification');
      await client.end().catch(() => undefined);
    }
  }
}
