/**
 * What a training phase minimises, beyond the cross-entropy on its labels: the terms domain
 * adaptation adds (Pan & Yang's transductive setting, where the target has inputs and no labels).
 * Plain data, no tensor type: a backend's session reads it and computes the terms.
 */

/** A feature-alignment term between the labelled batch and the unlabelled one, on the head's input. */
export interface Alignment {
  /**
   * `coral`: the squared Frobenius distance between the two batches' feature covariances, over
   * 4d² (Deep CORAL: Sun & Saenko, ECCV 2016 workshops). `mmd`: the squared maximum mean
   * discrepancy under a sum of Gaussian kernels whose bandwidths are multiples of the batch's mean
   * squared distance (DAN: Long et al., ICML 2015).
   */
  readonly kind: 'coral' | 'mmd';
  /** The term's weight, > 0. */
  readonly weight: number;
}

/**
 * DANN's adversarial term (Ganin & Lempitsky, "Unsupervised Domain Adaptation by
 * Backpropagation", ICML 2015): a domain classifier on the head's input learns to tell the
 * labelled batch from the unlabelled one, through a gradient reversal that makes the features
 * confuse it. Its weight ramps up as λ(p) = 2 / (1 + e^(−10p)) − 1 over the first `rampSteps`.
 */
export interface Adversarial {
  /** The weight the reversal reaches, > 0. */
  readonly weight: number;
  /** Units of the domain classifier's hidden layer (ReLU, no BatchNorm: TLlib issue 267). */
  readonly hidden: number;
  /** The domain classifier's own Adam learning rate. */
  readonly learningRate: number;
  /** Steps over which λ ramps from 0 to `weight`. */
  readonly rampSteps: number;
}

/** A phase's loss, beyond cross-entropy (see `PhaseArgs.objective`). */
export interface Objective {
  /** Weight of the cross-entropy on the labelled rows: 1 as usual, 0 where their labels are not to be read. */
  readonly supervised: number;
  /**
   * One weight per training input (≥ 0) on its cross-entropy: importance weights, or a mask of the
   * pseudo-labels kept. A batch's loss is then Σ wᵢ ℓᵢ / Σ wᵢ (0 where the weights are all 0).
   */
  readonly exampleWeights?: Float32Array;
  /** Weight of the mean Shannon entropy (nats) of the predictions on the unlabelled rows (TENT: Wang et al., ICLR 2021). */
  readonly entropy?: number;
  /** A feature-alignment term. */
  readonly alignment?: Alignment;
  /** DANN's adversarial term. */
  readonly adversarial?: Adversarial;
  /**
   * What trains: `policy` (the default: the phase's trainable policy, and the head), or
   * `normalization`: only the scale and offset of the BatchNorm layers the policy trains, the head
   * frozen (TENT).
   */
  readonly trains?: 'policy' | 'normalization';
  /**
   * Whether the BatchNorm layers run on each batch's own statistics while the phase trains (TENT).
   * Their moving statistics are then re-estimated on the unlabelled inputs after the phase.
   */
  readonly batchStatistics?: boolean;
}
