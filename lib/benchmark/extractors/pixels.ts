/**
 * The two baselines without any invariance: the raw pixels (H x W values in [0, 1]) and their
 * principal components, f(x) = U_kᵀ (x - μ) with μ and the first k components U_k fitted on the
 * training split (lib/ml/pca.ts).
 */
import type { ImageBatch } from '../../data/augment';
import type { CodeMatrix } from '../../ml/layers/mean-pooling';
import { Pca } from '../../ml/pca';
import { withCoreSeconds, type Extractor, type ExtractorTrainingData } from '../extractor';

/** The pixels as they are. */
export class RawPixels implements Extractor {
  readonly name = 'pixels';
  readonly family = 'pixels' as const;
  readonly description = 'the raw pixel values (28 x 28 = 784)';
  readonly labels = 'none' as const;
  readonly exactD4Invariant = false;
  readonly trainingCoreSeconds = 0;

  async encode(images: ImageBatch): Promise<CodeMatrix> {
    return { data: images.data.slice(), rows: images.count, cols: images.height * images.width };
  }
}

/** The first `components` principal components of the pixels. */
export class PixelPca implements Extractor {
  readonly name: string;
  readonly family = 'pixels' as const;
  readonly description: string;
  readonly labels = 'none' as const;
  readonly exactD4Invariant = false;
  trainingCoreSeconds = 0;
  trainingInfo?: Record<string, unknown>;
  private pca: Pca | null = null;

  constructor(readonly components: number) {
    if (!Number.isInteger(components) || components < 1)
      throw new RangeError(`PixelPca: components must be a positive integer, got ${String(components)}`);
    this.name = `pixels-pca${components}`;
    this.description = `the first ${components} principal components of the pixels (fitted on the training split)`;
  }

  async fit(data: ExtractorTrainingData): Promise<void> {
    const { train } = data;
    const px = train.height * train.width;
    if (this.components > px)
      throw new RangeError(`PixelPca: ${this.components} components asked of ${px}-pixel images`);
    const r = await withCoreSeconds(async () => Pca.fit(train.data, train.count, px));
    this.pca = r.value;
    this.trainingCoreSeconds = r.coreSeconds;
    const explained = this.pca
      .explainedVarianceRatio()
      .subarray(0, this.components)
      .reduce((a, b) => a + b, 0);
    this.trainingInfo = { images: train.count, explainedVariance: explained };
  }

  async encode(images: ImageBatch): Promise<CodeMatrix> {
    if (!this.pca) throw new Error(`${this.name}: encode before fit`);
    return {
      data: this.pca.transform(images.data, images.count, this.components),
      rows: images.count,
      cols: this.components,
    };
  }
}
