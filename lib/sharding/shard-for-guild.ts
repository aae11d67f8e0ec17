/**
 * `(guild_id >> 22) % total`, with 64-bit arithmetic on the snowflake.
 *
 * @param guildId - the guild's snowflake
 * @param total - the shard count
 * @returns the shard id that receives the guild's events
 * @example
 * ```ts
 * shardForGuild('81384788765712384', 16); // 2
 * ```
 * @category Sharding
 */
export function shardForGuild(guildId: string, total: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(total));
}
