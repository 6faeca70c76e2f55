/** Public API of the policies: pure functions from observations to wanted caps. */
export * from './types.ts';
export { waterFill, type FillClaim } from './waterfill.ts';
export { daqsPolicy, DEFAULT_DAQS_OPTIONS, type DaqsOptions, type DaqsState, type DaqsGuaranteeState } from './daqs.ts';
export { paperPolicy, DEFAULT_PAPER_OPTIONS, PAPER_PORT_BPS, type PaperOptions, type PaperState } from './paper.ts';
export { fairPolicy, weightedPolicy, type NoState } from './share.ts';
export { staticPolicy } from './static.ts';
export { createPolicy, type PolicyOptions } from './registry.ts';
export { POLICY_NAMES, type PolicyName } from './names.ts';
