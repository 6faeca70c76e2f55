/** Public API of the fluid simulator. */
export { SimClock } from './clock.ts';
export { shareFluid, type FluidVm } from './fluid.ts';
export { SimHost, SimEndpoint, type SimHostOptions, type SimTraffic, type SimFault } from './host.ts';
export { SimFaultError, SimRequestError } from './errors.ts';
export { simInventory, driveTicks, BEST_EFFORT, type Ticker } from './drive.ts';
export { PORT_BPS, TICK_MS, paper, guarantee, makeRig, ticksUntilHeld, cov, mean, type Rig } from './rig.ts';
