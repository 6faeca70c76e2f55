/**
 * Policies by name, for the config file, `daqs run --policy` and the evaluation harness.
 */
import { daqsPolicy, type DaqsOptions } from './daqs.ts';
import { paperPolicy, type PaperOptions } from './paper.ts';
import { fairPolicy, weightedPolicy } from './share.ts';
import { staticPolicy } from './static.ts';
import { POLICY_NAMES } from './names.ts';
import { PolicyConfigError, type Policy } from './types.ts';

/** Options per policy; each policy reads only its own. */
export interface PolicyOptions {
  readonly daqs?: Partial<DaqsOptions>;
  readonly paper?: Partial<PaperOptions>;
}

/** Builds a policy by name; an unknown name throws PolicyConfigError listing the known ones. */
export function createPolicy(name: string, options: PolicyOptions = {}): Policy {
  switch (name) {
    case 'daqs': return daqsPolicy(options.daqs) as Policy;
    case 'paper': return paperPolicy(options.paper) as Policy;
    case 'fair': return fairPolicy() as Policy;
    case 'weighted': return weightedPolicy() as Policy;
    case 'static': return staticPolicy() as Policy;
    default: throw new PolicyConfigError(`unknown policy "${name}" (known: ${POLICY_NAMES.join(', ')})`);
  }
}
