import { type Balancer, type Candidates, powerOfTwo } from './balancer.js';

/**
 * Fewest requests in flight (relative to weight), between two endpoints chosen at random: nearly as
 * good as scanning all of them, and it never herds every worker onto the same "least loaded" one.
 */
export class LeastOutstanding implements Balancer {
  private c: Candidates | null = null;
  private readonly score = (i: number): number => (this.c!.inFlight(i) + 1) / this.c!.weight(i);

  pick(c: Candidates): number {
    this.c = c;
    return powerOfTwo(c, this.score);
  }
}
