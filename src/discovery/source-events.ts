import type { EndpointPlan } from '../compile/plan.js';

/** What a discovery source reports. */
export interface SourceEvents {
  /** The current endpoint list; null = "no news" (a failed round), which also counts as having answered. */
  update(endpoints: EndpointPlan[] | null): void;
  problem(message: string): void;
}
