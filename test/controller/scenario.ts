/** The loop tests use the simulator's scenario rig. */
export { PORT_BPS, TICK_MS, paper, guarantee, makeRig, ticksUntilHeld, cov, mean, type Rig } from '../../src/sim/rig.ts';
