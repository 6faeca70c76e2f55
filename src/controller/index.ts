/** Public API of the control loop. */
export { Controller, type ControlledVm, type ControllerOptions, type ControllerConfigUpdate, type StartMode, type StopResult } from './controller.ts';
export { capChanged } from './reconcile.ts';
export { mapBounded, withTimeout } from './bounded.ts';
export { VmTimeoutError, ControllerConfigError, ControllerStateError, errorCode, errorMessage } from './errors.ts';
