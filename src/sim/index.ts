/** Public API of the fluid simulator. */
export { SimClock } from './clock.ts';
export { shareFluid, shareGuaranteed, ceilingOf, type FluidVm } from './fluid.ts';
export { SimHost, SimEndpoint, type SimHostOptions, type SimTraffic, type SimFault } from './host.ts';
export { SimFaultError, SimRequestError } from './errors.ts';
export { simInventory, driveTicks, BEST_EFFORT, type Ticker } from './drive.ts';
export { PORT_BPS, TICK_MS, REALISTIC_HOST, paper, guarantee, makeRig, ticksUntilHeld, cov, mean, type Rig, type RigControl } from './rig.ts';
