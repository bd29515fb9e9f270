/**
 * Expected, user-facing failures. The CLI prints a DssrError as one line
 * (`dssr: <message>`) and exits non-zero; anything else is a bug and prints its stack.
 * Every message names the problem and the file it concerns.
 */
export class DssrError extends Error {
  override name: string = "DssrError";
  constructor(message: string, readonly file?: string) {
    super(message);
  }
}

/** A pickle that is truncated, malformed, or names a global outside the allow-list. */
export class PickleError extends DssrError {
  override name = "PickleError" as const;
  constructor(message: string, file: string, readonly offset?: number) {
    super(message, file);
  }
}

/** A file that is missing or unreadable. */
export class FileError extends DssrError {
  override name = "FileError" as const;
}

/** A label or feature file whose structure is not what the GCNet release writes. */
export class FormatError extends DssrError {
  override name = "FormatError" as const;
}

/** A feature file lacking an utterance id that the label file names. */
export class MissingUtteranceError extends DssrError {
  override name = "MissingUtteranceError" as const;
  constructor(message: string, file: string, readonly utteranceId: string) {
    super(message, file);
  }
}

/** A feature vector whose length disagrees with the file's declared dimension. */
export class FeatureDimensionError extends DssrError {
  override name = "FeatureDimensionError" as const;
  constructor(message: string, file: string, readonly expected: number, readonly got: number) {
    super(message, file);
  }
}

/** NaN or ±Inf in a feature vector. */
export class NonFiniteFeatureError extends DssrError {
  override name = "NonFiniteFeatureError" as const;
}

/** A bad option: unknown dataset, condition, normalisation, a non-positive epoch count, … */
export class ConfigError extends DssrError {
  override name = "ConfigError" as const;
}

/** A checkpoint that is corrupt or belongs to another configuration. */
export class CheckpointError extends DssrError {
  override name = "CheckpointError" as const;
}

export function isDssrError(e: unknown): e is DssrError {
  return e instanceof DssrError;
}
