/**
 * What cap is really in force on a guest interface, from a tc readback, and whether it is the
 * one daqs wanted. A guest may delete or change daqs' qdisc; this is how drift is seen.
 */
import type { CapReading } from '../core/types.ts';
import { formatRate } from '../units/rate.ts';
import { DAQS_CLASS_ID, DAQS_QDISC_HANDLE } from './htb-plan.ts';
import type { TcShow } from './parse.ts';

/** A readback interpreted: the cap plus what the readback said about daqs' own qdisc. */
export interface TcCapReading extends CapReading {
  /** daqs' root qdisc is installed. */
  readonly rootIsOurs: boolean;
  /** Bytes daqs' qdisc has sent (null when absent): the same qdisc keeps counting across changes. */
  readonly qdiscSentBytes: bigint | null;
  readonly burstBytes: number | null;
}

/** Interprets a readback of one interface into the cap in force (null: none of ours); the detail does not name the interface (the caller does). */
export function capFromShow(show: TcShow): TcCapReading {
  const root = show.qdiscs.find((q) => q.parent === 'root');
  if (!root || root.handle !== DAQS_QDISC_HANDLE || root.kind !== 'htb') {
    const what = root ? `${root.kind} ${root.handle}` : 'none';
    return { capBps: null, detail: `no daqs qdisc (root qdisc: ${what})`, rootIsOurs: false, qdiscSentBytes: null, burstBytes: null };
  }
  const cls = show.classes.find((c) => c.classid === DAQS_CLASS_ID);
  if (!cls) {
    // HTB sends traffic for a missing default class straight through: effectively uncapped.
    return { capBps: null, detail: `daqs htb ${DAQS_QDISC_HANDLE} without class ${DAQS_CLASS_ID}`, rootIsOurs: true, qdiscSentBytes: root.sentBytes, burstBytes: null };
  }
  const capBps = cls.ceilBps ?? cls.rateBps;
  const detail = `htb ${DAQS_CLASS_ID} rate ${cls.rateBps === null ? '?' : formatRate(cls.rateBps)} ceil ${cls.ceilBps === null ? '?' : formatRate(cls.ceilBps)} burst ${cls.burstBytes ?? '?'}b`;
  return { capBps, detail, rootIsOurs: true, qdiscSentBytes: root.sentBytes, burstBytes: cls.burstBytes };
}

/**
 * True when a cap read back is the cap wanted. tc prints rates rounded to 4-5 digits
 * ("12345Kbit"), so equal means within 0.5%.
 */
export function capMatches(wantedBps: number | null, readBps: number | null): boolean {
  if (wantedBps === null || readBps === null) return wantedBps === readBps;
  return Math.abs(wantedBps - readBps) <= Math.max(8, wantedBps * 0.005);
}
