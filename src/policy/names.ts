/**
 * The names of the controller's policies, in a file of their own so the config schema and the
 * experiments can name policies without loading their code.
 */

/** Every policy name daqs knows (see docs/configuration.md). */
export const POLICY_NAMES = ['daqs', 'paper', 'fair', 'weighted', 'static'] as const;

/** One of POLICY_NAMES. */
export type PolicyName = (typeof POLICY_NAMES)[number];
