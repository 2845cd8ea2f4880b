import type { Deployment, DeploymentEvent, PrismaClient } from "../db";
import { eventsAfterEach } from "../deployment/deployment-store";
import { AppError } from "../errors";
import { timelineComplete, TimelineCursor } from "./event-stream";

export interface TimelineListener {
  /** new events of the deployment, oldest first, each once */
  events(events: DeploymentEvent[]): void;
  /** the outcome is recorded and the pod is gone; every event was delivered before. The subscription is over. */
  end(deployment: Deployment): void;
  /** the timeline could not be read; the subscription is over (a client resumes with its Last-Event-ID) */
  error(err: unknown): void;
  /**
   * The deployment's row as this read found it (its progress and phase columns: every step and phase report,
   * including those that write no row), after the read's events; not on the read that ends the subscription.
   */
  state?(deployment: Deployment): void;
}

export interface TimelineHubOptions {
  /** how often the hub reads (default 400 ms) */
  pollMs?: number;
  /** at most this many events per subscription and read (default 200) */
  batch?: number;
  /** see TimelineCursor (default 5 s) */
  settleMs?: number;
}

interface Subscription {
  deploymentId: string;
  cursor: TimelineCursor;
  listener: TimelineListener;
}

/**
 * One reader per API process for every open timeline stream. Each read is one query for the new events
 * of all subscriptions (a LATERAL read per subscription, from its own TimelineCursor) and one for the
 * states of the deployments still waiting for events, however many streams are open, instead of two
 * queries per stream. It reads only while someone is subscribed.
 */
export class TimelineHub {
  private readonly subs = new Set<Subscription>();
  private timer: NodeJS.Timeout | null = null;
  private reading = false;
  private soon = false;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly settleMs: number;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => Date,
    options: TimelineHubOptions = {},
  ) {
    this.pollMs = options.pollMs ?? 400;
    this.batch = options.batch ?? 200;
    this.settleMs = options.settleMs ?? 5_000;
  }

  /** reads done so far: each is one events query (plus one states query when some stream waits) */
  reads = 0;

  /** open subscriptions */
  get size(): number {
    return this.subs.size;
  }

  /** Delivers the deployment's events above `afterId` (at once, then as they come) until its end; returns the unsubscribe. */
  subscribe(deploymentId: string, afterId: bigint, listener: TimelineListener): () => void {
    const sub = {
      deploymentId,
      cursor: new TimelineCursor(this.prisma, deploymentId, afterId, this.now, this.settleMs),
      listener,
    };
    this.subs.add(sub);
    this.readSoon();
    return () => void this.subs.delete(sub);
  }

  /** Ends every subscription with an error (the server is closing). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const err = new AppError("INTERNAL", "the server is shutting down", { retryable: true });
    for (const sub of [...this.subs]) this.drop(sub)?.listener.error(err);
  }

  private readSoon(): void {
    if (this.reading) {
      this.soon = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.read();
    }, ms);
    this.timer.unref();
  }

  private drop(sub: Subscription): Subscription | undefined {
    return this.subs.delete(sub) ? sub : undefined;
  }

  private async read(): Promise<void> {
    const subs = [...this.subs];
    if (subs.length === 0) return;
    this.reading = true;
    this.soon = false;
    let more = false;
    try {
      more = await this.deliver(subs);
    } catch (err) {
      for (const sub of subs) this.drop(sub)?.listener.error(err);
    } finally {
      this.reading = false;
      if (this.subs.size > 0) this.schedule(more || this.soon ? 0 : this.pollMs);
    }
  }

  /** One read for all; true when some subscription got a full batch (read again at once). */
  private async deliver(subs: Subscription[]): Promise<boolean> {
    this.reads += 1;
    const rows = await this.readEvents(subs);
    const waiting: Subscription[] = [];
    let full = 0;
    subs.forEach((sub, i) => {
      if (!this.subs.has(sub)) return;
      const fresh = sub.cursor.accept(rows[i] ?? [], this.batch);
      if (fresh.length > 0) sub.listener.events(fresh);
      if (fresh.length < this.batch) waiting.push(sub);
      else full += 1;
    });
    if (waiting.length > 0) await this.endCompleted(waiting);
    return full > 0;
  }

  private readEvents(subs: Subscription[]): Promise<DeploymentEvent[][]> {
    return eventsAfterEach(
      this.prisma,
      subs.map((s) => ({ deploymentId: s.deploymentId, after: s.cursor.after, limit: s.cursor.fetchSize(this.batch) })),
    );
  }

  /** Ends the subscriptions whose deployment's timeline is complete, after a last read of their events. */
  private async endCompleted(waiting: Subscription[]): Promise<void> {
    const ids = [...new Set(waiting.map((s) => s.deploymentId))];
    const found = new Map(
      (await this.prisma.deployment.findMany({ where: { id: { in: ids } } })).map((d) => [d.id, d]),
    );
    for (const sub of waiting) {
      const d = found.get(sub.deploymentId);
      if (d && !timelineComplete(d)) sub.listener.state?.(d);
      if (!d) {
        this.drop(sub)?.listener.error(new AppError("NOT_FOUND", "deployment not found"));
      } else if (timelineComplete(d)) {
        // the events that committed with (or just before) the final transition
        let fresh: DeploymentEvent[];
        do {
          fresh = await sub.cursor.next(this.batch);
          if (fresh.length > 0 && this.subs.has(sub)) sub.listener.events(fresh);
        } while (fresh.length === this.batch && this.subs.has(sub));
        this.drop(sub)?.listener.end(d);
      }
    }
  }
}
