export { testRateLimiter, type RateLimiterConformanceOptions } from './conformance.js';
