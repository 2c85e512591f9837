/**
 * The members of the benchmark: each is one unit of work on the runner, a set of extractors built
 * on one fit (the four SOAP descriptors of one setting, the mean and Gram codes of one trained
 * equivariant autoencoder, ...) or one condition of the supervised CNN reference. Adding an
 * extractor to the benchmark is one entry here (and its adapter in extractors/).
 */
import type { GroupName } from '../ml/groups/dihedral';
import type { CnnCondition } from './cnn-reference';
import type { Extractor } from './extractor';
import { convAutoencoderExtractors, equivariantExtractors } from './extractors/autoencoders';
import { codaeExtractors } from './extractors/codae';
import type { LearnedTraining, ModelCache } from './extractors/learned';
import { PixelPca, RawPixels } from './extractors/pixels';
import { rvaeExtractors } from './extractors/rvae';
import { soapExtractors, SOAP_SETTINGS } from './extractors/soap';
import { LEARNED_MEMBERS, MEMBER_NAMES, type MemberName } from './member-names';

export { DEFAULT_MEMBERS, LEARNED_MEMBERS, MEMBER_NAMES, type MemberName } from './member-names';

/** What the member builders read from the run's spec. */
export interface MemberSettings {
  seed: number;
  /** Principal components of the PCA baseline. */
  pcaComponents: number;
  /** Content latents of the rVAE and crVAE. */
  rvaeLatentDim: number;
  /** Invariant latents z of CODAE. */
  codaeLatentDim: number;
}

/** A member that builds extractors (a learned one, in LEARNED_MEMBERS, gets a {@link LearnedTraining}). */
export interface ExtractorMember {
  kind: 'extractors';
  build(s: MemberSettings, training: LearnedTraining | null, cache: ModelCache | undefined): Extractor[];
}

/** A condition of the supervised CNN reference. */
export interface ReferenceMember {
  kind: 'reference';
  condition: CnnCondition;
}

export type Member = ExtractorMember | ReferenceMember;

function learned(t: LearnedTraining | null, name: string): LearnedTraining {
  if (!t) throw new Error(`member ${name} needs training settings (epochs, images)`);
  return t;
}

const eq = (group: GroupName, attention: boolean): ExtractorMember => ({
  kind: 'extractors',
  build: (s, t, cache) =>
    equivariantExtractors(
      group,
      attention ? ['attention'] : ['mean', 'gram'],
      learned(t, `eqae ${group}`),
      s.seed,
      cache,
    ),
});

/** Every member (the order of MEMBER_NAMES is the protocol's). */
export const MEMBERS: Readonly<Record<MemberName, Member>> = {
  pixels: { kind: 'extractors', build: (s: MemberSettings) => [new RawPixels(), new PixelPca(s.pcaComponents)] },
  'soap-paper': { kind: 'extractors', build: () => soapExtractors('paper', SOAP_SETTINGS.paper) },
  'soap-mid': { kind: 'extractors', build: () => soapExtractors('mid', SOAP_SETTINGS.mid) },
  'soap-small': { kind: 'extractors', build: () => soapExtractors('small', SOAP_SETTINGS.small) },
  convae: {
    kind: 'extractors',
    build: (s: MemberSettings, t: LearnedTraining | null, c?: ModelCache) =>
      convAutoencoderExtractors(learned(t, 'convae'), s.seed, c),
  },
  'eqae-d4': eq('D4', false),
  'eqae-d12': eq('D12', false),
  'eqae-attention-d4': eq('D4', true),
  rvae: {
    kind: 'extractors',
    build: (s: MemberSettings, t: LearnedTraining | null, c?: ModelCache) =>
      rvaeExtractors('rvae', s.rvaeLatentDim, learned(t, 'rvae'), s.seed, c),
  },
  crvae: {
    kind: 'extractors',
    build: (s: MemberSettings, t: LearnedTraining | null, c?: ModelCache) =>
      rvaeExtractors('crvae', s.rvaeLatentDim, learned(t, 'crvae'), s.seed, c),
  },
  codae: {
    kind: 'extractors',
    build: (s: MemberSettings, t: LearnedTraining | null, c?: ModelCache) =>
      codaeExtractors(s.codaeLatentDim, learned(t, 'codae'), s.seed, c),
  },
  'cnn-augmented': { kind: 'reference', condition: 'augmented' },
  'cnn-upright': { kind: 'reference', condition: 'upright' },
};

/** Whether member `name` trains a model. */
export function isLearned(name: MemberName): boolean {
  return LEARNED_MEMBERS.includes(name);
}

/** The member `name`; throws naming the known ones. */
export function member(name: string): Member {
  const m = (MEMBER_NAMES as readonly string[]).includes(name) ? MEMBERS[name as MemberName] : undefined;
  if (!m) throw new RangeError(`unknown benchmark member '${name}'; known: ${MEMBER_NAMES.join(', ')}`);
  return m;
}
