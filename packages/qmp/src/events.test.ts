import { describe, expect, it } from 'vitest';
import { EventQueue, type QmpEvent } from './events.js';

const ev = (n: number, name = 'E'): QmpEvent => ({
  event: name,
  data: { n },
  timestamp: { seconds: n, microseconds: 0 },
});
const ns = (xs: QmpEvent[]) => xs.map((e) => (e.data as { n: number }).n);

async function drain(q: EventQueue, count: number): Promise<QmpEvent[]> {
  const out: QmpEvent[] = [];
  for (let i = 0; i < count; i++) {
    const r = await q.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe('EventQueue (bounded event iterator)', () => {
  it('delivers in order, to a waiting reader at once', async () => {
    const q = new EventQueue({}, () => undefined);
    const pending = q.next();
    q.push(ev(1));
    expect((await pending).value).toEqual(ev(1));
    q.push(ev(2));
    q.push(ev(3));
    expect(ns(await drain(q, 2))).toEqual([2, 3]);
  });

  it('drop-oldest (default) keeps the newest maxQueue events and counts drops', async () => {
    const q = new EventQueue({ maxQueue: 3 }, () => undefined);
    for (let i = 1; i <= 10; i++) q.push(ev(i));
    expect(q.dropped).toBe(7);
    expect(ns(await drain(q, 3))).toEqual([8, 9, 10]);
  });

  it('drop-newest keeps the oldest', async () => {
    const q = new EventQueue({ maxQueue: 3, overflow: 'drop-newest' }, () => undefined);
    for (let i = 1; i <= 10; i++) q.push(ev(i));
    expect(q.dropped).toBe(7);
    expect(ns(await drain(q, 3))).toEqual([1, 2, 3]);
  });

  it("'error' delivers what was queued, then throws QMP_EVENT_OVERFLOW and ends", async () => {
    let done = 0;
    const q = new EventQueue({ maxQueue: 2, overflow: 'error' }, () => done++);
    for (let i = 1; i <= 3; i++) q.push(ev(i));
    expect(ns(await drain(q, 2))).toEqual([1, 2]);
    await expect(q.next()).rejects.toMatchObject({ code: 'QMP_EVENT_OVERFLOW' });
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(done).toBe(1);
  });

  it('filters by name', async () => {
    const q = new EventQueue({ names: ['STOP'] }, () => undefined);
    q.push(ev(1, 'RESUME'));
    q.push(ev(2, 'STOP'));
    q.end();
    expect(ns(await drain(q, 5))).toEqual([2]);
  });

  it('end() lets queued events be read first; return() (for-await break) discards and ends', async () => {
    let done = 0;
    const q = new EventQueue({}, () => done++);
    q.push(ev(1));
    q.end();
    expect(ns(await drain(q, 5))).toEqual([1]);
    const r = new EventQueue({}, () => done++);
    r.push(ev(1));
    for await (const _ of r) break;
    expect(r.size).toBe(0);
    expect(done).toBe(2);
    r.push(ev(2));
    expect(await r.next()).toEqual({ value: undefined, done: true });
  });

  it('memory stays bounded under a long flood with a slow reader', async () => {
    const q = new EventQueue({ maxQueue: 100 }, () => undefined);
    for (let i = 0; i < 200_000; i++) q.push(ev(i));
    expect(q.size).toBe(100);
    expect(q.dropped).toBe(199_900);
    expect(ns(await drain(q, 1))).toEqual([199_900]);
  });
});
