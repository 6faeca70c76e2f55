/** Errors of the telemetry path (interface selection and counters), with stable codes. */

/** Stable codes of telemetry errors. */
export type TelemetryErrorCode =
  /** No guest interface has the configured MAC or name. */
  | 'E_TELEMETRY_NO_IFACE'
  /** Several guest interfaces match the MAC (VLAN, bond, macvlan on the VF): configure the name. */
  | 'E_TELEMETRY_AMBIGUOUS_IFACE'
  /** The interface exists but the agent reports no statistics for it. */
  | 'E_TELEMETRY_NO_STATS'
  /** The agent's reply did not have the documented shape. */
  | 'E_TELEMETRY_BAD_REPLY'
  /** The selector names neither a MAC nor an interface. */
  | 'E_TELEMETRY_SELECTOR';

/** A telemetry error naming the VM, what was looked for and what was found. */
export class TelemetryError extends Error {
  constructor(readonly code: TelemetryErrorCode, readonly vm: string, message: string) {
    super(`vm ${vm}: ${message}`);
    this.name = 'TelemetryError';
  }
}
