/**
 * The names of the invariance benchmark's members (members.ts), without loading any model: the
 * command line lists them in its help and checks flags against them.
 */

/** Every member, in protocol order. */
export const MEMBER_NAMES = Object.freeze([
  'pixels',
  'soap-paper',
  'soap-mid',
  'soap-small',
  'convae',
  'eqae-d4',
  'eqae-d12',
  'eqae-attention-d4',
  'rvae',
  'crvae',
  'codae',
  'cnn-augmented',
  'cnn-upright',
] as const);
export type MemberName = (typeof MEMBER_NAMES)[number];

/** The members that train a model (and so take epochs and training images). */
export const LEARNED_MEMBERS: readonly MemberName[] = Object.freeze([
  'convae',
  'eqae-d4',
  'eqae-d12',
  'eqae-attention-d4',
  'rvae',
  'crvae',
  'codae',
] as const);

/** The members a run takes by default (the 'mid' SOAP setting is optional). */
export const DEFAULT_MEMBERS: readonly MemberName[] = Object.freeze(MEMBER_NAMES.filter((m) => m !== 'soap-mid'));
