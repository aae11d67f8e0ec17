/**
 * The MESSAGE_CONTENT rule (protocol §6): which dispatches carry message content, what a session
 * identified without the intent gets instead, and which messages keep their content anyway.
 */
import { GatewayIntentBits } from 'discord-api-types/v10';
import { isObject } from './validate.js';

/** What a withheld field becomes: an empty string, an empty list, or no field at all. */
type Blank = 'empty-string' | 'empty-list' | 'absent';

/** How one dispatch's payload looks to a session without MESSAGE_CONTENT. */
interface ContentRule {
  /** Top-level fields of `d` withheld without the intent, and what each becomes. */
  readonly fields: Readonly<Record<string, Blank>>;
  /** Whether this payload keeps its content anyway. */
  readonly exempt: (d: Readonly<Record<string, unknown>>, appId: string) => boolean;
}

const MESSAGE_FIELDS: Readonly<Record<string, Blank>> = {
  content: 'empty-string',
  embeds: 'empty-list',
  attachments: 'empty-list',
  components: 'empty-list',
  poll: 'absent',
};

/** A user object (or anything else) whose `id` is `id`. */
function hasId(value: unknown, id: string): boolean {
  return isObject(value) && value['id'] === id;
}

/** DMs, the app's own messages and messages mentioning the app keep their content (protocol §6). */
function messageExempt(d: Readonly<Record<string, unknown>>, appId: string): boolean {
  if (typeof d['guild_id'] !== 'string') return true;
  if (hasId(d['author'], appId)) return true;
  const mentions = d['mentions'];
  return Array.isArray(mentions) && mentions.some((user) => hasId(user, appId));
}

const MESSAGE_RULE: ContentRule = { fields: MESSAGE_FIELDS, exempt: messageExempt };

/**
 * Dispatches whose payload carries message content, by name. Only the payload's own fields are
 * withheld: nested messages (`referenced_message`, `message_snapshots`) pass as given, since the
 * protocol notes say nothing of them. INTERACTION_CREATE is absent on purpose: the target message
 * of a context-menu command keeps its content (protocol §6).
 */
export const CONTENT_RULES: Readonly<Record<string, ContentRule | undefined>> = {
  MESSAGE_CREATE: MESSAGE_RULE,
  MESSAGE_UPDATE: MESSAGE_RULE,
  // AutoMod acts on members' messages in guilds, so no exemption applies.
  AUTO_MODERATION_ACTION_EXECUTION: {
    fields: { content: 'empty-string', matched_content: 'empty-string' },
    exempt: () => false,
  },
};

/**
 * The payload a session without MESSAGE_CONTENT gets: a shallow copy with the rule's fields
 * withheld, or null when `t` carries no content or the message is exempt (send `d` unchanged).
 * `d` itself is never modified.
 *
 * @param t - the dispatch name
 * @param d - its payload
 * @param appId - the application (bot user) id
 */
export function withheldContent(t: string, d: unknown, appId: string): Record<string, unknown> | null {
  const rule = CONTENT_RULES[t];
  if (!rule || !isObject(d) || rule.exempt(d, appId)) return null;
  const copy: Record<string, unknown> = { ...d };
  for (const [field, blank] of Object.entries(rule.fields)) {
    if (blank === 'absent') delete copy[field];
    else copy[field] = blank === 'empty-string' ? '' : [];
  }
  return copy;
}

/** A payload and its frame text `d`, as one session receives it. */
export interface DispatchBody {
  readonly d: unknown;
  readonly dJson: string;
}

/**
 * One dispatch as sessions with and without MESSAGE_CONTENT see it. Each form is built and
 * serialized at most once, on first use, however many sessions receive it; sessions with the
 * intent (and every dispatch without content) get the caller's object as is, with no copy.
 */
export class ContentViews {
  /** `JSON.stringify(t)`, shared by both forms. */
  readonly tJson: string;
  private full: DispatchBody | undefined;
  private withheld: DispatchBody | undefined;
  private readonly gated: boolean;

  /**
   * @param t - the dispatch name
   * @param d - its payload, never modified
   * @param appId - the application (bot user) id
   */
  constructor(
    readonly t: string,
    private readonly d: unknown,
    private readonly appId: string,
  ) {
    this.tJson = JSON.stringify(t);
    this.gated = CONTENT_RULES[t] !== undefined;
  }

  /**
   * The body for a session identified with `intents`.
   *
   * @param intents - the session's identify intents
   */
  for(intents: number): DispatchBody {
    if (this.gated && (intents & GatewayIntentBits.MessageContent) === 0) {
      if (this.withheld) return this.withheld;
      const copy = withheldContent(this.t, this.d, this.appId);
      if (copy) return (this.withheld = { d: copy, dJson: JSON.stringify(copy) });
      // Exempt: the same body as with the intent.
      this.withheld = this.fullBody();
      return this.withheld;
    }
    return this.fullBody();
  }

  private fullBody(): DispatchBody {
    return (this.full ??= { d: this.d, dJson: JSON.stringify(this.d ?? null) });
  }
}
