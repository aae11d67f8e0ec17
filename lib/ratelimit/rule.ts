import { InvalidOptionError } from '../errors.js';
import type { BucketRule } from './types.js';

/**
 * Checks that a rule can be enforced: a positive integer limit and a positive, finite interval.
 *
 * @param rule - the rule passed to `acquire`
 * @returns the error to reject with, or undefined when the rule is fine
 */
export function ruleProblem(rule: BucketRule): InvalidOptionError | undefined {
  if (!Number.isSafeInteger(rule.limit) || rule.limit < 1) return new InvalidOptionError('rule.limit', 'a positive integer');
  if (!Number.isFinite(rule.interval) || rule.interval <= 0) return new InvalidOptionError('rule.interval', 'a positive number of ms');
  return undefined;
}
